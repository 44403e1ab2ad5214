"""The editor window: canvas in the middle, inspector on the right, problems and gallery below, run bar on top.

The window wires widgets to the Editor (which pushes undoable commands) and to the document model (whose
signals every view follows). It owns files (open, save, recent, autosave, drops) and runs.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QWidget,
)

from app.editor.autosave import Autosaver, Orphan, find_orphans
from app.editor.canvas.node_item import NodeItem
from app.editor.canvas.scene import GraphScene
from app.editor.canvas.view import GraphView
from app.editor.connections import PortRef
from app.editor.context_menu import build_context_menu
from app.editor.dialogs import load_error_box
from app.editor.document_model import DocumentModel
from app.editor.editing import Editor
from app.editor.files import IMAGE_SUFFIXES, add_recent, example_files, load_any, recent_files
from app.editor.fragments import MIME_TYPE, fragment_text, is_empty, make_fragment, parse_fragment, top_left
from app.editor.gallery import Gallery
from app.editor.inspector import Inspector
from app.editor.palette import NodePalette
from app.editor.problems_panel import ProblemsPanel
from app.editor.request_view import RequestDialog
from app.editor.run_panel import RunPanel
from app.editor.runner import RunController
from graph_runtime.document import Workflow, dumps, loads, save
from graph_runtime.events import Event, EventKind
from graph_runtime.problems import WorkflowLoadError
from graph_runtime.validate import Diagnostic, validate

VALIDATE_DELAY_MS = 250
WORKFLOW_FILTER = "Loomware workflows (*.json);;All files (*)"
OPEN_FILTER = "Workflows and Loomware images (*.json *.png *.jpg *.jpeg *.webp);;All files (*)"

#: Open windows, so that a window without a parent is not garbage-collected while shown.
WINDOWS: list[MainWindow] = []


class MainWindow(QMainWindow):
    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self.setObjectName("LoomwareMainWindow")
        self.resize(1400, 860)
        self.model = DocumentModel(parent=self)
        self.stack = QUndoStack(self)
        self.editor = Editor(self.model, self.stack)
        self.restored_unsaved = False  # restored from an autosave: unsaved although the stack is clean
        self.diagnostics: list[Diagnostic] = []
        self.last_dialog: QWidget | None = None  # the newest non-blocking dialog (tests look at it)
        self.last_menu: QMenu | None = None  # the newest context menu (tests look at it)
        self._palette_wire: PortRef | None = None
        self._palette_pos = QPointF()
        self._fitted = False

        self.scene = GraphScene(self.model)
        self.scene.setParent(self)
        self.view = GraphView(self.scene, self)
        self.setCentralWidget(self.view)
        self.palette = NodePalette(self.view)

        self.inspector = Inspector(self.editor)
        self.problems = ProblemsPanel()
        self.gallery = Gallery()
        self.run_panel = RunPanel()
        self.runner = RunController(self)
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self.problems_dock = self._dock("Problems", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.gallery_dock = self._dock("Outputs", self.gallery, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.problems_dock, self.gallery_dock)
        self.problems_dock.raise_()
        self.resizeDocks([self.inspector_dock], [360], Qt.Orientation.Horizontal)
        self.resizeDocks([self.problems_dock], [240], Qt.Orientation.Vertical)  # room for a row of thumbnails
        run_bar = QToolBar("Run", self)
        run_bar.setObjectName("runBar")
        run_bar.setMovable(False)
        run_bar.addWidget(self.run_panel)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, run_bar)
        self.problem_count = QLabel()
        self.zoom_label = QLabel()
        self.statusBar().addPermanentWidget(self.problem_count)
        self.statusBar().addPermanentWidget(self.zoom_label)

        self.validate_timer = QTimer(self)
        self.validate_timer.setSingleShot(True)
        self.validate_timer.setInterval(VALIDATE_DELAY_MS)
        self.validate_timer.timeout.connect(self.revalidate)
        self.autosaver = Autosaver(self)
        self.autosaver.text_source = self._unsaved_text

        self._build_actions()
        self._connect()
        self.setAcceptDrops(True)
        WINDOWS.append(self)
        if path is not None:
            self.open_path(Path(path), ask=False)
        else:
            self._update_title()
            self.revalidate()

    # ------------------------------------------------------------------ construction

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu: QMenu, text: str, slot: Any, shortcut: Any = None, name: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        if name:
            self.actions_by_name[name] = action
        return action

    def _build_actions(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        bar = self.menuBar()
        key = QKeySequence
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&New", self.new_file, key.StandardKey.New, "new")
        self._action(file_menu, "New &Window", self.new_window, key("Ctrl+Shift+N"), "new_window")
        self._action(file_menu, "&Open…", self.open_dialog, key.StandardKey.Open, "open")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.examples_menu = file_menu.addMenu("&Examples")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_examples()
        file_menu.addSeparator()
        self._action(file_menu, "&Save", self.save, key.StandardKey.Save, "save")
        self._action(file_menu, "Save &As…", self.save_as, key("Ctrl+Shift+S"), "save_as")
        file_menu.addSeparator()
        self._action(file_menu, "Se&ttings…", self.open_settings, key("Ctrl+,"), "settings")
        file_menu.addSeparator()
        self._action(file_menu, "&Close Window", self.close, key.StandardKey.Close, "close")

        edit = bar.addMenu("&Edit")
        undo = self.stack.createUndoAction(self, "&Undo")
        undo.setShortcut(key.StandardKey.Undo)
        redo = self.stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([key(key.StandardKey.Redo), key("Ctrl+Y")])
        edit.addAction(undo)
        edit.addAction(redo)
        self.actions_by_name["undo"] = undo
        self.actions_by_name["redo"] = redo
        edit.addSeparator()
        self._action(edit, "Cu&t", self.cut, key.StandardKey.Cut, "cut")
        self._action(edit, "&Copy", self.copy, key.StandardKey.Copy, "copy")
        self._action(edit, "&Paste", self.paste, key.StandardKey.Paste, "paste")
        self._action(edit, "&Duplicate", self.duplicate, key("Ctrl+D"), "duplicate")
        self._action(edit, "De&lete", self.delete_selection, [key(key.StandardKey.Delete), key("Backspace")], "delete")
        self._action(edit, "Select &All", self.select_all, key.StandardKey.SelectAll, "select_all")
        edit.addSeparator()
        self._action(edit, "Add &Node…", self.open_palette_at_center, key("Ctrl+Space"), "add_node")
        self._action(edit, "Add N&ote", lambda: self.add_note(), key("N"), "add_note")
        self._action(edit, "Re&name", self.rename_selection, key("F2"), "rename")
        self._action(edit, "&Group Selection", self.group_selection, key("Ctrl+G"), "group")
        self._action(edit, "Auto &Layout", self.auto_layout, key("Ctrl+L"), "layout")

        view = bar.addMenu("&View")
        self._action(view, "&Fit to View", self.view.fit_all, key("F"), "fit")
        self._action(view, "Zoom &In", lambda: self.view.zoom_by(1.25), key.StandardKey.ZoomIn, "zoom_in")
        self._action(view, "Zoom &Out", lambda: self.view.zoom_by(0.8), key.StandardKey.ZoomOut, "zoom_out")
        self._action(view, "&Actual Size", self._actual_size, key("Ctrl+0"), "zoom_reset")
        view.addSeparator()
        for dock in (self.inspector_dock, self.problems_dock, self.gallery_dock):
            view.addAction(dock.toggleViewAction())

        run = bar.addMenu("&Run")
        self._action(run, "&Run", self.run, [key("Ctrl+Return"), key("Ctrl+Enter")], "run")
        self._action(run, "&Cancel Run", self.cancel_run, key("Ctrl+Shift+Return"), "cancel")
        run.addSeparator()
        self._action(run, "Show &Request…", self.show_request, key("Ctrl+R"), "request")
        self.run_panel.run_button.clicked.connect(self.run)
        self.run_panel.cancel_button.clicked.connect(self.cancel_run)

    def _connect(self) -> None:
        self.model.changed.connect(self._on_model_changed)
        self.stack.cleanChanged.connect(self._on_clean_changed)
        self.scene.selectionChanged.connect(self._on_selection)
        self.scene.connect_requested.connect(self._on_connect_requested)
        self.scene.connection_refused.connect(self._on_connection_refused)
        self.scene.wire_dropped.connect(self._on_wire_dropped)
        self.scene.moved.connect(self._on_moved)
        self.scene.note_resized.connect(self.editor.set_note_width)
        self.scene.group_resized.connect(self.editor.resize_group)
        self.scene.note_text_edited.connect(self._on_note_text_edited)
        self.scene.group_title_edited.connect(self._on_group_title_edited)
        self.scene.node_title_edited.connect(self._on_node_title_edited)
        self.view.context_menu_requested.connect(self.show_context_menu)
        self.view.palette_requested.connect(self.open_palette)
        self.view.group_title_requested.connect(self.rename_group)
        self.view.node_activated.connect(self._focus_inspector)
        self.palette.chosen.connect(self._on_palette_chosen)
        self.palette.dismissed.connect(self._on_palette_dismissed)
        self.problems.node_chosen.connect(self.focus_node)
        self.runner.event.connect(self._on_run_event)
        self.runner.finished.connect(self._on_run_finished)
        self.runner.failed.connect(self._on_run_failed)
        self.runner.running_changed.connect(self.run_panel.set_running)

    # ------------------------------------------------------------------ state

    @property
    def workflow(self) -> Workflow:
        return self.model.workflow

    def is_dirty(self) -> bool:
        return self.restored_unsaved or not self.stack.isClean()

    def _update_title(self) -> None:
        name = self.model.path.name if self.model.path else (self.workflow.metadata.name or "Untitled")
        self.setWindowTitle(f"{name}[*] — Loomware")
        self.setWindowModified(self.is_dirty())

    def _on_clean_changed(self, _clean: bool) -> None:
        self._update_title()

    def _on_model_changed(self) -> None:
        self.validate_timer.start()
        self.autosaver.poke()  # it writes only when, after the idle time, there is unsaved work
        self._update_title()
        self.zoom_label.setText(f"{len(self.workflow.nodes)} nodes")

    def _unsaved_text(self) -> tuple[str, Path | None, str] | None:
        if not self.is_dirty():
            return None
        return dumps(self.workflow), self.model.path, self.workflow.metadata.name

    def revalidate(self) -> None:
        self.validate_timer.stop()
        try:
            self.diagnostics = validate(self.workflow, base_dir=self.model.base_dir)
        except Exception as exc:
            self.diagnostics = [Diagnostic(None, None, None, "internal", "error", f"validation failed: {exc}")]
        self.scene.set_diagnostics(self.diagnostics)
        self.problems.set_diagnostics(self.diagnostics)
        self.inspector.set_diagnostics(self.diagnostics)
        errors, warnings = self.problems.counts()
        self.problem_count.setText(
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
        )
        self.problem_count.setStyleSheet("color: #e5484d;" if errors else "")
        self.problems_dock.setWindowTitle(f"Problems ({errors + warnings})" if errors + warnings else "Problems")

    def status(self, message: str, ms: int = 6000) -> None:
        self.statusBar().showMessage(message, ms)

    # ------------------------------------------------------------------ canvas requests

    def _on_selection(self) -> None:
        nodes = self.scene.selected_node_ids()
        self.inspector.show_node(nodes[0] if len(nodes) == 1 else None)

    def _on_connect_requested(self, a: PortRef, b: PortRef) -> None:
        problem = self.editor.connect(a, b)
        if problem:
            self._on_connection_refused(problem)

    def _on_connection_refused(self, reason: str) -> None:
        self.status(f"Cannot connect: {reason}")

    def _on_wire_dropped(self, start: PortRef, pos: QPointF) -> None:
        port_type = start.port_type(self.workflow)
        self._palette_wire = start
        self._palette_pos = pos
        self.palette.open(self._view_point(pos), port_type, wants_input=start.is_output)

    def _on_moved(self, positions: dict, rects: dict, note_positions: dict) -> None:
        self.editor.move(positions, rects, note_positions=note_positions)

    def _on_note_text_edited(self, note_id: str, text: str) -> None:
        if self.model.note(note_id) is not None:  # it may have gone (an undo) while being edited
            self.editor.set_note_text(note_id, text)
        self.view.setFocus()

    def _on_group_title_edited(self, group_id: str, title: str) -> None:
        if self.model.group(group_id) is not None:
            self.editor.set_group_title(group_id, title.strip())
        self.view.setFocus()

    def _on_node_title_edited(self, node_id: str, title: str) -> None:
        if node_id in self.workflow.nodes:
            title = title.strip()
            # Leaving the type's own title as it was is not a rename: the node keeps following its type.
            same = title == self.model.node_type(node_id).title and self.workflow.nodes[node_id].title is None
            self.editor.set_title(node_id, None if same else title or None)
        self.view.setFocus()

    def show_context_menu(self, scene_pos: QPointF, global_pos: QPoint) -> QMenu:
        menu = build_context_menu(self, scene_pos)
        menu.aboutToHide.connect(menu.deleteLater)  # deferred: the chosen action still runs
        self.last_menu = menu
        menu.popup(global_pos)
        return menu

    def _view_point(self, scene_pos: QPointF) -> tuple[int, int]:
        p = self.view.mapFromScene(scene_pos)
        return p.x(), p.y()

    def open_palette(self, scene_pos: QPointF) -> None:
        self._palette_wire = None
        self._palette_pos = scene_pos
        self.palette.open(self._view_point(scene_pos))

    def open_palette_at_center(self) -> None:
        self.open_palette(self.view.mapToScene(self.view.viewport().rect().center()))

    def _on_palette_chosen(self, type_id: str) -> None:
        pos = (self._palette_pos.x(), self._palette_pos.y())
        start = self._palette_wire
        self._palette_wire = None
        if start is not None:
            if not start.is_output:  # a node feeding this input goes to the left of the drop point
                pos = (pos[0] - 240, pos[1])
            node_id = self.editor.add_node_wired(type_id, pos, start)
        else:
            node_id = self.editor.add_node(type_id, pos)
        if node_id:
            self.scene.select_nodes([node_id])
        self.view.setFocus()

    def _on_palette_dismissed(self) -> None:
        self._palette_wire = None
        self.view.setFocus()

    def focus_node(self, node_id: str) -> None:
        item = self.scene.nodes.get(node_id)
        if item is None:
            return
        self.scene.select_nodes([node_id])
        self.view.centerOn(item.mapRectToScene(item.body_rect()).center())
        self.inspector_dock.show()

    def _focus_inspector(self, node_id: str) -> None:
        self.scene.select_nodes([node_id])
        self.inspector_dock.show()
        if self.inspector.rows:
            next(iter(self.inspector.rows.values())).editor.focus_widget().setFocus()

    def rename_group(self, group_id: str) -> None:
        self.scene.edit_group_title(group_id)

    def rename_selection(self) -> None:
        """F2: rename the one selected node or group in place, or edit the selected note's text."""
        nodes, groups, notes = (
            self.scene.selected_node_ids(),
            self.scene.selected_group_ids(),
            self.scene.selected_note_ids(),
        )
        if len(nodes) == 1:
            self.scene.edit_node_title(nodes[0])
        elif len(notes) == 1 and not nodes:
            self.scene.edit_note(notes[0])
        elif len(groups) == 1 and not nodes:
            self.scene.edit_group_title(groups[0])

    def add_note(self, scene_pos: QPointF | None = None) -> str:
        """A new note where asked (else under the cursor), opened for typing."""
        pos = scene_pos if scene_pos is not None else self.view.cursor_scene_pos()
        note_id = self.editor.add_note((pos.x(), pos.y()))
        self.scene.select_nodes([note_id])
        self.scene.edit_note(note_id)
        return note_id

    # ------------------------------------------------------------------ edit actions

    def delete_selection(self) -> None:
        self.editor.delete(
            self.scene.selected_node_ids(),
            self.scene.selected_link_ids(),
            self.scene.selected_group_ids(),
            self.scene.selected_note_ids(),
        )

    def select_all(self) -> None:
        for item in (*self.scene.nodes.values(), *self.scene.notes.values(), *self.scene.groups.values()):
            item.setSelected(True)

    def _selection_fragment(self) -> Workflow | None:
        fragment = make_fragment(
            self.workflow,
            self.scene.selected_node_ids(),
            self.scene.selected_group_ids(),
            self.scene.selected_note_ids(),
        )
        return None if is_empty(fragment) else fragment

    def copy(self) -> bool:
        fragment = self._selection_fragment()
        if fragment is None:
            self.status("Nothing selected to copy")
            return False
        text = fragment_text(fragment)
        mime = QMimeData()
        mime.setText(text)  # plain workflow JSON: pastes into other windows and text editors
        mime.setData(MIME_TYPE, text.encode("utf-8"))
        QGuiApplication.clipboard().setMimeData(mime)
        count = len(fragment.nodes) + len(fragment.groups) + len(fragment.notes)
        self.status(f"Copied {count} item{'s' if count != 1 else ''}")
        return True

    def cut(self) -> None:
        if self.copy():
            self.delete_selection()

    def clipboard_fragment(self) -> Workflow | None:
        """The nodes, groups and notes on the clipboard, or None when it holds none."""
        mime = QGuiApplication.clipboard().mimeData()
        text = ""
        if mime is not None and mime.hasFormat(MIME_TYPE):
            text = bytes(mime.data(MIME_TYPE).data()).decode("utf-8")
        elif mime is not None and mime.hasText():
            text = mime.text()
        fragment = parse_fragment(text) if text.strip() else None
        return None if fragment is None or is_empty(fragment) else fragment

    def paste(self, scene_pos: QPointF | None = None) -> list[str]:
        fragment = self.clipboard_fragment()
        if fragment is None:
            self.status("The clipboard holds no Loomware nodes or notes")
            return []
        left, top = top_left(fragment)
        target = scene_pos if scene_pos is not None else self.view.cursor_scene_pos()
        new_ids = self.editor.paste(fragment, (round(target.x() - left), round(target.y() - top)))
        self.scene.select_nodes(new_ids)
        return new_ids

    def duplicate(self) -> list[str]:
        fragment = self._selection_fragment()
        if fragment is None:
            return []
        new_ids = self.editor.paste(fragment, (40, 40), text="Duplicate")
        self.scene.select_nodes(new_ids)
        return new_ids

    def group_selection(self) -> str | None:
        nodes = self.scene.selected_node_ids()
        if not nodes:
            self.status("Select the nodes to group first")
            return None
        rect = self.scene.nodes_bounds(nodes)
        return self.editor.group(nodes, (rect.x(), rect.y(), rect.width(), rect.height()))

    def auto_layout(self) -> None:
        chosen = self.scene.selected_node_ids()
        ids = chosen if len(chosen) > 1 else list(self.workflow.nodes)
        self.editor.auto_layout(ids, self.scene.node_size)
        if len(chosen) <= 1:
            self.view.fit_all()

    def _actual_size(self) -> None:
        self.view.resetTransform()

    def show_request(self, node_id: str | None = None) -> RequestDialog:
        """The API request for the graph, or for one node (the given one, else the one selected)."""
        nodes = self.scene.selected_node_ids()
        if node_id is None and len(nodes) == 1:
            node_id = nodes[0]
        dialog = RequestDialog(self.workflow, self.model.base_dir, node_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last_dialog = dialog
        dialog.open()
        return dialog

    # ------------------------------------------------------------------ files

    def ask_save_changes(self) -> str:
        """'save', 'discard' or 'cancel'. Tests replace this to answer without a modal loop."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save the changes to {self.model.path.name if self.model.path else 'this workflow'}?")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        )
        answer = box.exec()
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(QMessageBox.StandardButton(answer), "cancel")

    def ask_restore(self, orphan: Orphan) -> bool:
        """Whether to restore an autosave left by a crash. Tests replace this."""
        where = f" of {orphan.original}" if orphan.original else ""
        answer = QMessageBox.question(
            self,
            "Restore unsaved work?",
            f"Loomware stopped without saving '{orphan.name}'{where}.\nRestore the autosaved version?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def maybe_save(self) -> bool:
        """True when it is safe to replace or close the document."""
        if not self.is_dirty():
            return True
        answer = self.ask_save_changes()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def set_document(self, workflow: Workflow, path: Path | None, base_dir: Path | None = None) -> None:
        self.runner.cancel()
        self.scene.clear_run_state()
        self.model.replace(workflow, path, base_dir)
        self.stack.clear()
        self.restored_unsaved = False
        self.autosaver.discard()
        self._update_title()
        self.revalidate()
        self.view.fit_all()
        self._fitted = self.isVisible()  # fit again once shown: the view has its real size only then

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            QTimer.singleShot(0, self.view.fit_all)

    def new_file(self) -> None:
        if self.maybe_save():
            self.set_document(Workflow(), None)

    def new_window(self) -> MainWindow:
        window = MainWindow()
        window.show()
        return window

    def open_dialog(self) -> None:
        start = str(self.model.path.parent) if self.model.path else os.getcwd()
        path, _ = QFileDialog.getOpenFileName(self, "Open workflow", start, OPEN_FILTER)
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path, *, ask: bool = True, as_copy: bool = False) -> bool:
        """Open a workflow file or a Loomware image. Load problems are listed in a dialog; the current
        document is only replaced once the new one loaded."""
        try:
            workflow = load_any(path)
        except WorkflowLoadError as exc:
            self._show_load_error(path.name, exc)
            return False
        if ask and not self.maybe_save():
            return False
        is_image = path.suffix.lower() in IMAGE_SUFFIXES
        if is_image or as_copy:  # an image's or an example's workflow opens as a new, unsaved document
            self.set_document(workflow, None, base_dir=path.parent)
        else:
            self.set_document(workflow, path.resolve())
            add_recent(path)
        self.status(f"Opened {path.name}")
        return True

    def open_text(self, text: str, what: str = "The text") -> bool:
        try:
            workflow = loads(text)
        except WorkflowLoadError as exc:
            self._show_load_error(what, exc)
            return False
        self.set_document(workflow, None)
        return True

    def _show_load_error(self, what: str, error: WorkflowLoadError) -> None:
        box = load_error_box(self, what, error)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last_dialog = box
        box.open()

    def save(self) -> bool:
        if self.model.path is None:
            return self.save_as()
        return self.save_to(self.model.path)

    def save_as(self, path: Path | None = None) -> bool:
        if path is None:
            start = str(self.model.path or Path(os.getcwd()) / f"{self.workflow.metadata.name or 'workflow'}.json")
            chosen, _ = QFileDialog.getSaveFileName(self, "Save workflow", start, WORKFLOW_FILTER)
            if not chosen:
                return False
            path = Path(chosen)
            if not path.suffix:
                path = path.with_suffix(".json")
        return self.save_to(path)

    def save_to(self, path: Path) -> bool:
        self.scene.close_inline(commit=True)  # save what is being typed too
        self.workflow.touch()
        try:
            save(self.workflow, path)
        except OSError as exc:
            QMessageBox.warning(self, "Save failed", f"Could not save {path}:\n{exc.strerror or exc}")
            return False
        if self.model.path != path.resolve():
            self.model.path = path.resolve()
        self.restored_unsaved = False
        self.stack.setClean()
        self.autosaver.discard()
        add_recent(path)
        self._update_title()
        self.status(f"Saved {path.name}")
        return True

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = [p for p in recent_files() if p.exists()]
        if not paths:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for p in paths:
            action = self.recent_menu.addAction(p.name)
            action.setToolTip(str(p))
            action.triggered.connect(lambda _c=False, p=p: self.open_path(p))

    def _fill_examples(self) -> None:
        files = example_files()
        if not files:
            self.examples_menu.addAction("(no example workflows found)").setEnabled(False)
        for p in files:
            action = self.examples_menu.addAction(p.stem.replace("-", " ").capitalize())
            action.triggered.connect(lambda _c=False, p=p: self.open_path(p, as_copy=True))

    def offer_restore(self) -> bool:
        """At start: offer to restore autosaves that a crashed editor left. True when one was restored."""
        restored = False
        for orphan in find_orphans():
            if not self.ask_restore(orphan):
                orphan.discard()
                continue
            try:
                workflow = loads(orphan.text())
            except (OSError, WorkflowLoadError) as exc:
                if isinstance(exc, WorkflowLoadError):
                    self._show_load_error("The autosave", exc)
                continue  # keep the file: nothing a person made is deleted on a failure
            target = self if not restored and not self.is_dirty() and not self.workflow.nodes else self.new_window()
            target.set_document(workflow, orphan.original)
            target.restored_unsaved = True
            target._update_title()
            target.autosaver.save_now()  # now ours: written under this session before the orphan goes
            orphan.discard()
            target.status("Restored unsaved work from the autosave")
            restored = True
        return restored

    # drag and drop of files

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(Path(url.toLocalFile()))
                event.acceptProposedAction()
                return

    # ------------------------------------------------------------------ settings and running

    def open_settings(self) -> None:
        from app.editor.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self)
        self.last_dialog = dialog
        dialog.exec()

    def run_options(self) -> Any:
        from graph_runtime import config
        from graph_runtime.run import RunOptions

        try:
            settings = config.load_settings()
        except config.ConfigError as exc:
            self.status(str(exc))
            settings = config.Settings()
        out_dir = Path(settings.output_dir).expanduser()
        if not out_dir.is_absolute():
            out_dir = self.model.base_dir / out_dir
        backend = settings.default_backend
        # The cloud and any Runware-compatible server at a URL take the key; the in-process engine needs none.
        api_key = config.get_api_key() if backend != "local" else None
        return RunOptions(
            backend=backend, api_key=api_key, out_dir=out_dir, default_output_format=settings.default_save_format
        )

    def run(self) -> bool:
        if self.runner.running:
            return False
        self.revalidate()
        errors = [d for d in self.diagnostics if d.severity == "error"]
        if errors:
            self.problems_dock.show()
            self.problems_dock.raise_()
            self.status(f"Fix {len(errors)} error{'s' if len(errors) != 1 else ''} before running (see Problems)")
            return False
        try:
            options = self.run_options()
        except ImportError:
            self.status("The executor is not installed in this build")
            return False
        if getattr(options, "backend", "") == "cloud" and not getattr(options, "api_key", None):
            self.status("Running on the cloud needs an API key: File > Settings")
            return False
        self.scene.clear_run_state()
        self.run_panel.start()
        return self.runner.start(self.workflow, self.model.base_dir, options)

    def cancel_run(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self.run_panel.status.setText("Cancelling…")

    def _on_run_event(self, event: Event) -> None:
        self.run_panel.on_event(event)
        node_id, data, kind = event.node_id, event.data, event.kind
        if kind == EventKind.NODE_QUEUED and node_id:
            self.scene.set_node_state(node_id, "queued")
        elif kind == EventKind.NODE_STARTED and node_id:
            self.scene.set_node_state(node_id, "running")
        elif kind == EventKind.NODE_PROGRESS and node_id:
            progress = data.get("progress")
            text = f"running {round(float(progress) * 100)}%" if isinstance(progress, int | float) else "running"
            self.scene.set_node_state(node_id, "running", text)
        elif kind == EventKind.NODE_CACHED and node_id:
            self.scene.set_node_state(node_id, "cached")
            self._show_images(node_id, data.get("images"))
        elif kind == EventKind.NODE_FINISHED and node_id:
            self.scene.set_node_state(node_id, "done")
            self._show_images(node_id, data.get("images"))
        elif kind == EventKind.NODE_FAILED and node_id:
            error = str(data.get("error") or data.get("code") or "failed")
            self.scene.set_node_state(node_id, "failed", error=error)
        elif kind == EventKind.NODE_SKIPPED and node_id:
            self.scene.set_node_state(node_id, "skipped")
        elif kind == EventKind.IMAGE_SAVED and isinstance(data.get("path"), str):
            seed = data.get("seed")
            self.gallery.add_image(data["path"], f"seed {seed}" if seed is not None else "")

    def _show_images(self, node_id: str, images: Any) -> None:
        if isinstance(images, list) and images:
            paths = [str(p) for p in images]
            self.scene.set_node_images(node_id, paths)
            for p in paths:
                self.gallery.add_image(p)

    def _on_run_finished(self, report: Any) -> None:
        status = str(getattr(report, "status", "ok"))
        cost = getattr(report, "total_cost", None)
        previews = getattr(report, "previews", {}) or {}
        for node_id, paths in previews.items():
            item = self.scene.nodes.get(node_id)
            if isinstance(item, NodeItem) and not item.thumbnails:
                self._show_images(node_id, list(paths))
        files = list(getattr(report, "files", []) or [])
        for p in files:
            if Path(str(p)).suffix.lower() in IMAGE_SUFFIXES:
                self.gallery.add_image(str(p))
        message = {"ok": "Done", "failed": "Failed: see the red nodes", "cancelled": "Cancelled"}.get(status, status)
        if files:
            message += f" · {len(files)} file{'s' if len(files) != 1 else ''}"
        self.run_panel.finish(status, cost if isinstance(cost, int | float) else None, message)
        if self.gallery.paths:
            self.gallery_dock.show()
            self.gallery_dock.raise_()
        if status == "ok":
            self.editor.apply_seeds_after_run()
        self.status(message)

    def _on_run_failed(self, message: str) -> None:
        self.run_panel.finish("failed", None, f"Run failed: {message}")
        self.status(f"Run failed: {message}", 15000)

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        self.scene.close_inline(commit=True)  # text being typed counts as an edit when asked to save
        if not self.maybe_save():
            event.ignore()
            return
        if self.runner.running:
            self.runner.cancel()
            self.runner.wait(10.0)
        self.autosaver.discard()
        self.validate_timer.stop()
        self.palette.hide()
        self.model.blockSignals(True)  # the views go away with the window: stop them following the model
        self.inspector.detach()
        self.scene.detach()
        with contextlib.suppress(RuntimeError, TypeError):
            self.scene.selectionChanged.disconnect(self._on_selection)
        with contextlib.suppress(RuntimeError, TypeError):
            self.stack.cleanChanged.disconnect(self._on_clean_changed)
        if self in WINDOWS:
            WINDOWS.remove(self)
        event.accept()
