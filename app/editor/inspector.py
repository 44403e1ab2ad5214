"""The inspector: the selected node's title, parameters (widgets from the declarations), list-input order
and diagnostics. It edits nothing itself; it asks the Editor, which pushes undoable commands."""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.editor.document_model import UNSET, DocumentModel
from app.editor.editing import Editor
from app.editor.param_widgets import ParamEditor, make_editor
from graph_runtime.validate import Diagnostic

STYLE = """
*[unset="true"] { color: #8a8f98; font-style: italic; }
QLabel#fieldError { color: #e5484d; }
QLabel#fieldWarning { color: #d99a2b; }
QLabel#nodeType { color: #8a8f98; }
QLabel#description { color: #b0b5bd; }
"""


class ParamRow:
    """The widgets of one parameter: editor, reset button, and the field's diagnostics below it."""

    def __init__(self, editor: ParamEditor, reset: QToolButton, problems: QLabel) -> None:
        self.editor = editor
        self.reset = reset
        self.problems = problems


class Inspector(QWidget):
    def __init__(self, editor: Editor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.model: DocumentModel = editor.model
        self.node_id: str | None = None
        self.rows: dict[str, ParamRow] = {}
        self.order_lists: dict[str, QListWidget] = {}
        self.order_boxes: dict[str, QFrame] = {}
        self._diagnostics: list[Diagnostic] = []
        self.setStyleSheet(STYLE)
        self.setMinimumWidth(300)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # fields shrink instead
        outer.addWidget(self.scroll)
        self.body: QWidget | None = None
        self.title_edit: QLineEdit | None = None
        self.model.node_changed.connect(self._on_node_changed)
        self.model.node_removed.connect(self._on_node_removed)
        self.model.links_reordered.connect(self._on_links_changed)
        self.model.reset.connect(self._on_reset)
        self.show_node(None)

    def detach(self) -> None:
        for signal, slot in (
            (self.model.node_changed, self._on_node_changed),
            (self.model.node_removed, self._on_node_removed),
            (self.model.links_reordered, self._on_links_changed),
            (self.model.reset, self._on_reset),
        ):
            with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
                signal.disconnect(slot)

    def _on_reset(self) -> None:
        self.node_id = None
        self.body = None
        self.show_node(None)

    # ------------------------------------------------------------------ building

    def show_node(self, node_id: str | None) -> None:
        if node_id is not None and node_id not in self.model.workflow.nodes:
            node_id = None
        if node_id == self.node_id and self.body is not None:
            return
        self.node_id = node_id
        self.rows = {}
        self.order_lists = {}
        self.order_boxes = {}
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 10, 10, 10)
        if node_id is None:
            hint = QLabel("Select a node to edit its parameters.\n\nTab or double-click the canvas to add one.")
            hint.setObjectName("description")
            hint.setWordWrap(True)
            layout.addWidget(hint)
            layout.addStretch(1)
            self._install(body)
            return

        node = self.model.workflow.nodes[node_id]
        node_type = self.model.node_type(node_id)
        self.title_edit = QLineEdit(node.title or "")
        self.title_edit.setPlaceholderText(node_type.title)
        self.title_edit.setObjectName("titleEdit")
        self.title_edit.editingFinished.connect(self._title_done)
        layout.addWidget(self.title_edit)
        kind = QLabel(f"{node_type.title}  ·  {node_type.category}  ·  id {node_id}")
        kind.setObjectName("nodeType")
        layout.addWidget(kind)
        description = QLabel(node_type.description)
        description.setObjectName("description")
        description.setWordWrap(True)
        layout.addWidget(description)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        for param in node_type.params:
            editor = make_editor(param, self.model.base_dir)
            editor.setObjectName(f"param_{param.name}")
            editor.edited.connect(lambda value, mergeable, name=param.name: self._edited(name, value, mergeable))
            reset = QToolButton()
            reset.setText("↺")
            reset.setToolTip(
                f"Unset {param.name}: leave it out of the request so the API default applies"
                if param.api
                else f"Unset {param.name}: back to its default"
            )
            reset.clicked.connect(lambda _checked=False, name=param.name: self._edited(name, UNSET, False))
            problems = QLabel()
            problems.setWordWrap(True)
            problems.setObjectName("fieldError")
            problems.hide()
            field = QWidget()
            field_layout = QVBoxLayout(field)
            field_layout.setContentsMargins(0, 0, 0, 0)
            field_layout.setSpacing(2)
            line = QHBoxLayout()
            line.addWidget(editor, 1)
            line.addWidget(reset, 0, Qt.AlignmentFlag.AlignTop)
            field_layout.addLayout(line)
            field_layout.addWidget(problems)
            label = QLabel(param.name + ("*" if param.required else ""))
            tip = param.help + (f"\nAllowed: {param.range_text}" if param.range_text else "")
            if param.default is not None:
                tip += f"\n{'API default' if param.api else 'Default'}: {param.default}"
            if not param.api:
                tip += "\nEditor setting: never sent to the API."
            label.setToolTip(tip)
            editor.setToolTip(tip)
            form.addRow(label, field)
            self.rows[param.name] = ParamRow(editor, reset, problems)
        layout.addLayout(form)

        for port in node_type.inputs:
            if port.many:
                layout.addWidget(self._order_section(port.name))
        self.node_problems = QLabel()
        self.node_problems.setWordWrap(True)
        self.node_problems.setObjectName("fieldError")
        layout.addWidget(self.node_problems)
        layout.addStretch(1)
        self._install(body)
        self._refresh_values()
        self._refresh_orders()
        self._apply_diagnostics()

    def _install(self, body: QWidget) -> None:
        old = self.scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self.body = body
        self.scroll.setWidget(body)

    def _order_section(self, input_name: str) -> QWidget:
        box = QFrame()
        box.setObjectName(f"order_box_{input_name}")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(QLabel(f"Order of {input_name} (first applies first)"))
        row = QHBoxLayout()
        listing = QListWidget()
        listing.setObjectName(f"order_{input_name}")
        listing.setMaximumHeight(110)
        row.addWidget(listing, 1)
        buttons = QVBoxLayout()
        up, down = QPushButton("Up"), QPushButton("Down")
        up.setObjectName(f"order_up_{input_name}")
        down.setObjectName(f"order_down_{input_name}")
        up.clicked.connect(lambda: self._move_link(input_name, -1))
        down.clicked.connect(lambda: self._move_link(input_name, +1))
        buttons.addWidget(up)
        buttons.addWidget(down)
        buttons.addStretch(1)
        row.addLayout(buttons)
        layout.addLayout(row)
        self.order_lists[input_name] = listing
        self.order_boxes[input_name] = box
        return box

    # ------------------------------------------------------------------ following the model

    def _refresh_values(self) -> None:
        if self.node_id is None:
            return
        node = self.model.workflow.nodes[self.node_id]
        for name, row in self.rows.items():
            is_set = name in node.params
            row.editor.set_value(node.params.get(name), is_set)
            row.reset.setEnabled(is_set)
        if self.title_edit is not None and not self.title_edit.hasFocus():
            self.title_edit.setText(node.title or "")

    def _refresh_orders(self) -> None:
        if self.node_id is None:
            return
        for input_name, listing in self.order_lists.items():
            current = listing.currentItem().data(Qt.ItemDataRole.UserRole) if listing.currentItem() else None
            listing.clear()
            for i, link in enumerate(self.model.workflow.links_into(self.node_id, input_name), start=1):
                item = QListWidgetItem(f"{i}. {link.from_.node}.{link.from_.output}")
                item.setData(Qt.ItemDataRole.UserRole, link.id)
                listing.addItem(item)
                if link.id == current:
                    listing.setCurrentItem(item)
            self.order_boxes[input_name].setVisible(listing.count() > 1)  # an order matters from two wires on

    def _on_node_changed(self, node_id: str) -> None:
        if node_id == self.node_id:
            self._refresh_values()

    def _on_node_removed(self, node_id: str) -> None:
        if node_id == self.node_id:
            self.show_node(None)

    def _on_links_changed(self, node_id: str, _input: str) -> None:
        if node_id == self.node_id:
            self._refresh_orders()

    def set_diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        self._diagnostics = diagnostics
        self._apply_diagnostics()

    def _apply_diagnostics(self) -> None:
        if self.node_id is None:
            return
        mine = [d for d in self._diagnostics if d.node_id == self.node_id]
        for name, row in self.rows.items():
            found = [d for d in mine if d.field == name]
            row.problems.setVisible(bool(found))
            row.problems.setText("\n".join(d.message for d in found))
            row.problems.setObjectName("fieldError" if any(d.severity == "error" for d in found) else "fieldWarning")
            row.problems.setStyleSheet(row.problems.styleSheet())  # re-apply the style for the new name
        other = [d for d in mine if d.field not in self.rows]
        self.node_problems.setText("\n".join(f"{d.severity}: {d.message}" for d in other))
        self.node_problems.setVisible(bool(other))

    # ------------------------------------------------------------------ edits

    def _edited(self, name: str, value: Any, mergeable: bool) -> None:
        if self.node_id is not None:
            self.editor.set_param(self.node_id, name, value, mergeable=mergeable)

    def _title_done(self) -> None:
        if self.node_id is None or self.title_edit is None:
            return
        text = self.title_edit.text().strip()
        self.editor.set_title(self.node_id, text or None)

    def _move_link(self, input_name: str, step: int) -> None:
        listing = self.order_lists.get(input_name)
        item = listing.currentItem() if listing else None
        if item is not None:
            self.editor.move_link(str(item.data(Qt.ItemDataRole.UserRole)), step)
