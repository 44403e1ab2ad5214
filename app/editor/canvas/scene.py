"""The canvas scene: mirrors the document model (it never edits it) and turns gestures into requests.

Wire drags, moves and drops become signals; the main window turns them into undoable edits, and the
model's signals bring the result back here.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent

from app.editor.canvas import style
from app.editor.canvas.group_item import GroupItem
from app.editor.canvas.group_item import title_font as group_title_font
from app.editor.canvas.inline_editor import InlineEditor
from app.editor.canvas.node_item import NodeItem
from app.editor.canvas.note_item import NoteItem
from app.editor.canvas.wire_item import WireItem, wire_path
from app.editor.connections import PortRef, compatible_ports, connection_problem
from app.editor.document_model import DocumentModel
from graph_runtime.document import Link
from graph_runtime.validate import Diagnostic
from nodes import REGISTRY

SCENE_EXTENT = 200_000.0


class GraphScene(QGraphicsScene):
    connect_requested = Signal(object, object)  # PortRef, PortRef
    connection_refused = Signal(str)
    wire_dropped = Signal(object, QPointF)  # the PortRef dragged from, the scene point of the drop
    moved = Signal(dict, dict, dict)  # node id -> (old, new) position, group id -> (old, new) rect, note id -> ...
    note_resized = Signal(str, float)  # note id, new width
    group_resized = Signal(str, float, float)  # group id, new width and height
    note_text_edited = Signal(str, str)  # note id, text (from the inline editor)
    group_title_edited = Signal(str, str)
    node_title_edited = Signal(str, str)

    def __init__(self, model: DocumentModel) -> None:
        super().__init__()
        self.model = model
        self.setSceneRect(QRectF(-SCENE_EXTENT / 2, -SCENE_EXTENT / 2, SCENE_EXTENT, SCENE_EXTENT))
        self.setBackgroundBrush(style.BACKGROUND)
        self.nodes: dict[str, NodeItem] = {}
        self.wires: dict[str, WireItem] = {}
        self.groups: dict[str, GroupItem] = {}
        self.notes: dict[str, NoteItem] = {}
        self.inline: InlineEditor | None = None  # the open in-place text editor, if any
        self._wires_at: dict[str, set[str]] = defaultdict(set)  # node id -> ids of links touching it
        self._drag_from: PortRef | None = None
        self._drag_wire: QGraphicsPathItem | None = None
        self._drag_ok: set[PortRef] = set()
        self._move_start: dict[str, QPointF] = {}
        self._group_start: dict[str, tuple[float, float, float, float]] = {}
        self._note_start: dict[str, QPointF] = {}
        self._syncing = False
        for signal, slot in self._links():
            signal.connect(slot)
        self.rebuild()

    def _links(self) -> list[tuple[Any, Any]]:
        m = self.model
        return [
            (m.reset, self.rebuild),
            (m.node_added, self._on_node_added),
            (m.node_removed, self._on_node_removed),
            (m.node_changed, self._on_node_changed),
            (m.node_moved, self._on_node_moved),
            (m.link_added, self._on_link_added),
            (m.link_removed, self._on_link_removed),
            (m.links_reordered, self._on_links_reordered),
            (m.group_added, self._on_group_added),
            (m.group_removed, self._on_group_removed),
            (m.group_changed, self._on_group_changed),
            (m.note_added, self._on_note_added),
            (m.note_removed, self._on_note_removed),
            (m.note_changed, self._on_note_changed),
        ]

    def detach(self) -> None:
        """Stop following the model (the window is closing)."""
        for signal, slot in self._links():
            with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
                signal.disconnect(slot)

    # ------------------------------------------------------------------ following the model

    def rebuild(self) -> None:
        self.cancel_wire_drag()
        self.close_inline()
        self.clear()
        self.nodes.clear()
        self.wires.clear()
        self.groups.clear()
        self.notes.clear()
        self._wires_at.clear()
        wf = self.model.workflow
        for group in wf.groups:
            self._on_group_added(group.id)
        for note in wf.notes:
            self._on_note_added(note.id)
        for node_id in wf.nodes:
            self._add_node_item(node_id)
        for link in wf.links:
            self._add_wire(link)
        for node_id in wf.nodes:
            self._update_connections(node_id)
        for node_id, port in {(link.to.node, link.to.input) for link in wf.links}:
            self._on_links_reordered(node_id, port)

    def _add_node_item(self, node_id: str) -> NodeItem:
        node = self.model.workflow.nodes[node_id]
        item = NodeItem(node_id, node, REGISTRY[node.type])
        self._syncing = True
        item.setPos(*node.position)
        self._syncing = False
        self.addItem(item)
        self.nodes[node_id] = item
        return item

    def _on_node_added(self, node_id: str) -> None:
        self._add_node_item(node_id)
        self._update_connections(node_id)

    def _on_node_removed(self, node_id: str) -> None:
        item = self.nodes.pop(node_id, None)
        if item is not None:
            self.removeItem(item)
        self._wires_at.pop(node_id, None)

    def _on_node_changed(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.update_from(self.model.workflow.nodes[node_id])
            self.node_item_moved(item)  # collapsing moves its ports: keep the wires attached

    def _on_node_moved(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            x, y = self.model.workflow.nodes[node_id].position
            if item.pos() != QPointF(x, y):
                item.setPos(x, y)

    def _add_wire(self, link: Link) -> None:
        src = self.nodes.get(link.from_.node)
        dst = self.nodes.get(link.to.node)
        if src is None or dst is None:
            return
        port = src.node_type.output(link.from_.output)
        color = style.port_color(port.type) if port else QColor("#888888")
        wire = WireItem(link.id, color)
        self.wires[link.id] = wire
        self._wires_at[link.from_.node].add(link.id)
        self._wires_at[link.to.node].add(link.id)
        self.addItem(wire)
        self._route(wire, link)

    def _route(self, wire: WireItem, link: Link) -> None:
        src = self.nodes[link.from_.node]
        dst = self.nodes[link.to.node]
        wire.set_ends(src.port_scene_pos(link.from_.output, True), dst.port_scene_pos(link.to.input, False))

    def _on_link_added(self, link_id: str) -> None:
        link = self.model.link(link_id)
        if link is not None:
            self._add_wire(link)
            self._update_connections(link.from_.node)
            self._update_connections(link.to.node)

    def _on_link_removed(self, link: Link) -> None:
        wire = self.wires.pop(link.id, None)
        if wire is not None:
            self.removeItem(wire)
        self._wires_at[link.from_.node].discard(link.id)
        self._wires_at[link.to.node].discard(link.id)
        self._update_connections(link.from_.node)
        self._update_connections(link.to.node)

    def _on_links_reordered(self, node_id: str, input_name: str) -> None:
        node = self.model.workflow.nodes.get(node_id)
        port = REGISTRY[node.type].input(input_name) if node else None
        if port is None or not port.many:
            return
        links = list(self.model.workflow.links_into(node_id, input_name))
        for i, link in enumerate(links, start=1):
            wire = self.wires.get(link.id)
            if wire is not None:
                wire.set_order(i if len(links) > 1 else None)

    def _update_connections(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        if item is None:
            return
        connected: set[tuple[bool, str]] = set()
        counts: dict[str, int] = defaultdict(int)
        for link_id in self._wires_at.get(node_id, ()):
            link = self.model.link(link_id)
            if link is None:
                continue
            if link.from_.node == node_id:
                connected.add((True, link.from_.output))
            if link.to.node == node_id:
                connected.add((False, link.to.input))
                counts[link.to.input] += 1
        item.set_connections(connected, dict(counts))

    def _on_group_added(self, group_id: str) -> None:
        group = self.model.group(group_id)
        if group is not None:
            item = GroupItem(group)
            self.groups[group_id] = item
            self.addItem(item)

    def _on_group_removed(self, group_id: str) -> None:
        item = self.groups.pop(group_id, None)
        if item is not None:
            self.removeItem(item)

    def _on_group_changed(self, group_id: str) -> None:
        group = self.model.group(group_id)
        item = self.groups.get(group_id)
        if group is not None and item is not None:
            item.update_from(group)

    def _on_note_added(self, note_id: str) -> None:
        note = self.model.note(note_id)
        if note is not None:
            item = NoteItem(note)
            self.notes[note_id] = item
            self.addItem(item)

    def _on_note_removed(self, note_id: str) -> None:
        item = self.notes.pop(note_id, None)
        if item is not None:
            self.removeItem(item)

    def _on_note_changed(self, note_id: str) -> None:
        note = self.model.note(note_id)
        item = self.notes.get(note_id)
        if note is not None and item is not None:
            item.update_from(note)

    def node_item_moved(self, item: NodeItem) -> None:
        """A node item moved (dragged or synced): its wires follow."""
        for link_id in self._wires_at.get(item.node_id, ()):
            wire = self.wires.get(link_id)
            link = self.model.link(link_id)
            if wire is not None and link is not None and link.from_.node in self.nodes and link.to.node in self.nodes:
                self._route(wire, link)

    # ------------------------------------------------------------------ queries

    def selected_node_ids(self) -> list[str]:
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n for n in self.model.workflow.nodes if n in chosen]

    def selected_link_ids(self) -> list[str]:
        return [i.link_id for i in self.selectedItems() if isinstance(i, WireItem)]

    def selected_group_ids(self) -> list[str]:
        chosen = {i.group_id for i in self.selectedItems() if isinstance(i, GroupItem)}
        return [g.id for g in self.model.workflow.groups if g.id in chosen]

    def selected_note_ids(self) -> list[str]:
        chosen = {i.note_id for i in self.selectedItems() if isinstance(i, NoteItem)}
        return [n.id for n in self.model.workflow.notes if n.id in chosen]

    def select_nodes(self, node_ids: list[str]) -> None:
        """Select exactly these items: node, group and note ids alike."""
        self.clearSelection()
        for item_id in node_ids:
            item = self.nodes.get(item_id) or self.notes.get(item_id) or self.groups.get(item_id)
            if item is not None:
                item.setSelected(True)

    def set_item_caches(self, on: bool) -> None:
        """Turn the pixmap caches of nodes and notes on or off. A cache pays off when panning (the same
        pixmap is reused) and costs when zooming (every frame renders a new one, then copies it)."""
        mode = QGraphicsItem.CacheMode.DeviceCoordinateCache if on else QGraphicsItem.CacheMode.NoCache
        for item in (*self.nodes.values(), *self.notes.values()):
            item.setCacheMode(mode)

    def item_at(self, pos: QPointF) -> NodeItem | NoteItem | GroupItem | None:
        """The topmost node, note or group under a scene point (what a right-click is about)."""
        return next((i for i in self.items(pos) if isinstance(i, NodeItem | NoteItem | GroupItem)), None)

    def nodes_bounds(self, node_ids: list[str]) -> QRectF:
        rect = QRectF()
        for node_id in node_ids:
            if node_id in self.nodes:
                item = self.nodes[node_id]
                rect = rect.united(item.mapRectToScene(item.body_rect()))
        return rect

    def node_size(self, node_id: str) -> tuple[float, float]:
        item = self.nodes.get(node_id)
        return (style.NODE_WIDTH, item.height) if item else (style.NODE_WIDTH, 100.0)

    def port_hit(self, pos: QPointF) -> PortRef | None:
        r = style.PORT_HIT
        for item in self.items(QRectF(pos.x() - r, pos.y() - r, 2 * r, 2 * r)):
            if isinstance(item, NodeItem):
                hit = item.port_at(item.mapFromScene(pos))
                if hit is not None:
                    return PortRef(item.node_id, hit[0], hit[1])
        return None

    def node_at(self, pos: QPointF) -> NodeItem | None:
        return next((i for i in self.items(pos) if isinstance(i, NodeItem)), None)

    # ------------------------------------------------------------------ run state and diagnostics

    def set_diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        per_node: dict[str, list[Diagnostic]] = defaultdict(list)
        for d in diagnostics:
            if d.node_id is not None:
                per_node[d.node_id].append(d)
        for node_id, item in self.nodes.items():
            found = per_node.get(node_id, [])
            if found or item.diagnostics:
                item.set_diagnostics(found)

    def set_node_state(self, node_id: str, state: str | None, text: str = "", error: str = "") -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.set_state(state, text, error)
            self.node_item_moved(item)  # its height may change; keep the wires attached

    def set_node_images(self, node_id: str, paths: list[str]) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.set_images(paths)

    def clear_run_state(self) -> None:
        for item in self.nodes.values():
            if item.state or item.thumbnails or item.error_lines:
                item.set_state(None)
                item.set_images([])

    # ------------------------------------------------------------------ gestures

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self.port_hit(event.scenePos())
            if hit is not None:
                self._begin_wire(hit, event.scenePos())
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._capture_move_start()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag_from is not None:
            self._update_drag_wire(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag_from is not None and event.button() == Qt.MouseButton.LeftButton:
            self._finish_wire(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._emit_moves()

    def _capture_move_start(self) -> None:
        selected = self.selectedItems()
        chosen_nodes = {i for i in selected if isinstance(i, NodeItem)}
        chosen_notes = {i for i in selected if isinstance(i, NoteItem)}
        self._move_start = {i.node_id: i.pos() for i in chosen_nodes}
        self._note_start = {i.note_id: i.pos() for i in chosen_notes}
        self._group_start = {}
        for group in (i for i in selected if isinstance(i, GroupItem)):
            frame = group.mapRectToScene(group.boundingRect())
            nodes = [
                n
                for n in self.nodes.values()
                if n not in chosen_nodes and frame.contains(n.mapRectToScene(n.body_rect()).center())
            ]
            notes = [
                n
                for n in self.notes.values()
                if n not in chosen_notes and frame.contains(n.mapRectToScene(n.boundingRect()).center())
            ]
            group.begin_carry([*nodes, *notes])
            self._group_start[group.group_id] = group.rect_tuple()
            for n in nodes:
                self._move_start[n.node_id] = n.pos()
            for note in notes:
                self._note_start[note.note_id] = note.pos()

    def _emit_moves(self) -> None:
        positions: dict[str, Any] = {}
        for node_id, start in self._move_start.items():
            item = self.nodes.get(node_id)
            if item is None or item.pos() == start:
                continue
            old = tuple(self.model.workflow.nodes[node_id].position)
            new = (float(round(item.pos().x())), float(round(item.pos().y())))
            positions[node_id] = (old, new)
        rects: dict[str, Any] = {}
        for group_id, start_rect in self._group_start.items():
            group = self.groups.get(group_id)
            if group is None:
                continue
            group.begin_carry([])
            x, y, w, h = group.rect_tuple()
            new_rect = (float(round(x)), float(round(y)), w, h)
            if new_rect[:2] != start_rect[:2]:
                old_group = self.model.group(group_id)
                rects[group_id] = (tuple(old_group.rect) if old_group else start_rect, new_rect)
        note_positions: dict[str, Any] = {}
        for note_id, start in self._note_start.items():
            note_item = self.notes.get(note_id)
            note = self.model.note(note_id)
            if note_item is not None and note is not None and note_item.pos() != start:
                note_positions[note_id] = (tuple(note.position), note_item.position_tuple())
        self._move_start = {}
        self._group_start = {}
        self._note_start = {}
        if positions or rects or note_positions:
            self.moved.emit(positions, rects, note_positions)

    # in-place text editing

    def edit_note(self, note_id: str) -> InlineEditor | None:
        note, item = self.model.note(note_id), self.notes.get(note_id)
        if note is None or item is None:
            return None
        font = NoteItem.text_font()
        return self._open_inline(
            note.text, item.text_rect(), font, style.NOTE_EDIT_FILL, True, self.note_text_edited, note_id
        )

    def edit_group_title(self, group_id: str) -> InlineEditor | None:
        group, item = self.model.group(group_id), self.groups.get(group_id)
        if group is None or item is None:
            return None
        font = group_title_font()
        return self._open_inline(
            group.title, item.title_rect(), font, style.EDIT_FILL, False, self.group_title_edited, group_id
        )

    def edit_node_title(self, node_id: str) -> InlineEditor | None:
        node, item = self.model.workflow.nodes.get(node_id), self.nodes.get(node_id)
        if node is None or item is None:
            return None
        font = NodeItem.title_font()
        return self._open_inline(
            item.title, item.title_rect(), font, style.EDIT_FILL, False, self.node_title_edited, node_id
        )

    def _open_inline(
        self, text: str, rect: QRectF, font: QFont, fill: QColor, multiline: bool, done: Any, item_id: str
    ) -> InlineEditor:
        self.close_inline(commit=True)
        margin = style.NOTE_PAD if multiline else 2.0
        editor = InlineEditor(text, rect, font, fill, multiline=multiline, margin=margin)
        editor.committed.connect(lambda value: self._inline_done(editor, lambda: done.emit(item_id, value)))
        editor.cancelled.connect(lambda: self._inline_done(editor, None))
        self.addItem(editor)
        self.inline = editor
        editor.start()
        return editor

    def _inline_done(self, editor: InlineEditor, report: Any) -> None:
        if self.inline is editor:
            self.inline = None
        # Removed on the next turn of the event loop: this runs inside the editor's own key or focus handler.
        QTimer.singleShot(0, lambda: self._dispose(editor))
        if report is not None:
            report()

    def _dispose(self, editor: QGraphicsItem) -> None:
        if editor.scene() is self:
            self.removeItem(editor)

    def close_inline(self, commit: bool = False) -> None:
        """End the in-place edit, if one is open: keep its text or drop it."""
        editor, self.inline = self.inline, None
        if editor is None:
            return
        if commit:
            editor.finish(True)
        else:
            editor.finished = True  # disarmed: removing it must not commit
        self._dispose(editor)

    # wires

    def _begin_wire(self, start: PortRef, pos: QPointF) -> None:
        self._drag_from = start
        port_type = start.port_type(self.model.workflow)
        color = style.port_color(port_type) if port_type else QColor("#888888")
        self._drag_wire = QGraphicsPathItem()
        self._drag_wire.setPen(QPen(color, 2.5, Qt.PenStyle.DashLine))
        self._drag_wire.setZValue(10)
        self.addItem(self._drag_wire)
        self._drag_ok = compatible_ports(self.model.workflow, start)
        marks_by_node: dict[str, dict[tuple[bool, str], str]] = defaultdict(dict)
        for ref in self._drag_ok:
            marks_by_node[ref.node_id][(ref.is_output, ref.name)] = "ok"
        for node_id, item in self.nodes.items():
            marks = marks_by_node.get(node_id, {})
            if node_id == start.node_id:
                marks = {(start.is_output, start.name): "ok"}
            item.set_port_marks(marks)
        self._update_drag_wire(pos)

    def _update_drag_wire(self, pos: QPointF) -> None:
        if self._drag_from is None or self._drag_wire is None:
            return
        item = self.nodes.get(self._drag_from.node_id)
        if item is None:
            return
        anchor = item.port_scene_pos(self._drag_from.name, self._drag_from.is_output)
        path = wire_path(anchor, pos) if self._drag_from.is_output else wire_path(pos, anchor)
        self._drag_wire.setPath(path)

    def cancel_wire_drag(self) -> None:
        if self._drag_wire is not None:
            self.removeItem(self._drag_wire)
        self._drag_wire = None
        self._drag_from = None
        self._drag_ok = set()
        for item in self.nodes.values():
            item.set_port_marks(None)

    def _finish_wire(self, pos: QPointF) -> None:
        start = self._drag_from
        ok = self._drag_ok
        self.cancel_wire_drag()
        if start is None:
            return
        wf = self.model.workflow
        target = self.port_hit(pos)
        if target is None:
            node = self.node_at(pos)
            if node is None:
                self.wire_dropped.emit(start, pos)
                return
            if node.node_id == start.node_id:
                return  # let go where it started: nothing to do
            # dropped on a node's body: take its first compatible port, free ones first
            candidates = sorted(
                (r for r in ok if r.node_id == node.node_id),
                key=lambda r: (
                    any(link.to.node == r.node_id and link.to.input == r.name for link in wf.links),
                    [p.name for p in (*node.node_type.inputs, *node.node_type.outputs)].index(r.name),
                ),
            )
            if not candidates:
                port_type = start.port_type(wf)
                side = "input" if start.is_output else "output"
                self.connection_refused.emit(f"{node.title} has no free {side} that takes {port_type}")
                return
            target = candidates[0]
        if target == start:
            return
        problem = connection_problem(wf, start, target)
        if problem is not None:
            self.connection_refused.emit(problem)
        else:
            self.connect_requested.emit(start, target)

    # ------------------------------------------------------------------ background

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, style.BACKGROUND)
        scale = painter.worldTransform().m11()
        step = style.GRID if scale > 0.6 else style.GRID * 5
        if scale < 0.15:
            return
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        minor: list[QLineF] = []
        major: list[QLineF] = []
        x = left
        while x < rect.right():
            (major if round(x / step) % 5 == 0 else minor).append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            (major if round(y / step) % 5 == 0 else minor).append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.setPen(QPen(style.GRID_MINOR, 0))
        painter.drawLines(minor)
        painter.setPen(QPen(style.GRID_MAJOR, 0))
        painter.drawLines(major)
