"""The canvas scene: mirrors the document model (it never edits it) and turns gestures into requests.

Wire drags, moves and drops become signals; the main window turns them into undoable edits, and the
model's signals bring the result back here.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent

from app.editor.canvas import style
from app.editor.canvas.group_item import GroupItem
from app.editor.canvas.node_item import NodeItem
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
    moved = Signal(dict, dict)  # node id -> (old, new) position, group id -> (old, new) rect

    def __init__(self, model: DocumentModel) -> None:
        super().__init__()
        self.model = model
        self.setSceneRect(QRectF(-SCENE_EXTENT / 2, -SCENE_EXTENT / 2, SCENE_EXTENT, SCENE_EXTENT))
        self.setBackgroundBrush(style.BACKGROUND)
        self.nodes: dict[str, NodeItem] = {}
        self.wires: dict[str, WireItem] = {}
        self.groups: dict[str, GroupItem] = {}
        self._wires_at: dict[str, set[str]] = defaultdict(set)  # node id -> ids of links touching it
        self._drag_from: PortRef | None = None
        self._drag_wire: QGraphicsPathItem | None = None
        self._drag_ok: set[PortRef] = set()
        self._move_start: dict[str, QPointF] = {}
        self._group_start: dict[str, tuple[float, float, float, float]] = {}
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
        ]

    def detach(self) -> None:
        """Stop following the model (the window is closing)."""
        for signal, slot in self._links():
            with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
                signal.disconnect(slot)

    # ------------------------------------------------------------------ following the model

    def rebuild(self) -> None:
        self.cancel_wire_drag()
        self.clear()
        self.nodes.clear()
        self.wires.clear()
        self.groups.clear()
        self._wires_at.clear()
        wf = self.model.workflow
        for group in wf.groups:
            self._on_group_added(group.id)
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
        return [i.group_id for i in self.selectedItems() if isinstance(i, GroupItem)]

    def select_nodes(self, node_ids: list[str]) -> None:
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

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
        self._move_start = {i.node_id: i.pos() for i in chosen_nodes}
        self._group_start = {}
        for group in (i for i in selected if isinstance(i, GroupItem)):
            frame = group.mapRectToScene(group.boundingRect())
            carried = [
                n
                for n in self.nodes.values()
                if n not in chosen_nodes and frame.contains(n.mapRectToScene(n.body_rect()).center())
            ]
            group.begin_carry(carried)
            self._group_start[group.group_id] = group.rect_tuple()
            for n in carried:
                self._move_start[n.node_id] = n.pos()

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
        self._move_start = {}
        self._group_start = {}
        if positions or rects:
            self.moved.emit(positions, rects)

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
