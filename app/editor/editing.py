"""The editing operations a person performs, each pushed as one undoable step on the session's stack.

Widgets call these; these build commands; commands change the model. Keeping this layer free of widgets
makes every operation testable without a mouse.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from PySide6.QtGui import QUndoStack

from app.editor.commands import (
    AddGroupCommand,
    AddItemsCommand,
    ConnectCommand,
    ItemKind,
    MoveCommand,
    RemoveItemsCommand,
    ReorderLinkCommand,
    SetFieldCommand,
    SetParamCommand,
)
from app.editor.connections import PortRef, connection_problem, orient
from app.editor.document_model import UNSET, DocumentModel
from app.editor.fragments import remap_fragment
from app.editor.layout import layered_positions
from graph_runtime.document import Group, Link, LinkFrom, LinkTo, Node, Note, Workflow
from graph_runtime.params import Kind
from nodes import REGISTRY

GROUP_MARGIN = 30.0
GROUP_TITLE_HEIGHT = 34.0


class Editor:
    def __init__(self, model: DocumentModel, stack: QUndoStack) -> None:
        self.model = model
        self.stack = stack

    @property
    def workflow(self) -> Workflow:
        return self.model.workflow

    @contextlib.contextmanager
    def macro(self, text: str, count: int = 2) -> Iterator[None]:
        """Make the edits inside one undo step (when there is more than one of them)."""
        if count < 2:
            yield
            return
        self.stack.beginMacro(text)
        try:
            yield
        finally:
            self.stack.endMacro()

    # ------------------------------------------------------------------ nodes

    def new_node(self, type_id: str, position: tuple[float, float]) -> tuple[str, Node]:
        node_type = REGISTRY[type_id]
        node_id = self.workflow.new_id(type_id)
        x, y = position
        return node_id, Node(type=type_id, position=(round(x), round(y)), params=node_type.initial_params())

    def add_node(self, type_id: str, position: tuple[float, float]) -> str:
        node_id, node = self.new_node(type_id, position)
        self.stack.push(AddItemsCommand(self.model, [(node_id, node)], text=f"Add {REGISTRY[type_id].title}"))
        return node_id

    def add_node_wired(self, type_id: str, position: tuple[float, float], start: PortRef) -> str | None:
        """Add a node and wire its first compatible port to `start` (a wire dropped on empty canvas): one step."""
        node_id, node = self.new_node(type_id, position)
        node_type = REGISTRY[type_id]
        start_type = start.port_type(self.workflow)
        ports = node_type.inputs if start.is_output else node_type.outputs
        port = next((p for p in ports if p.type == start_type), None)
        if port is None:
            return None
        self.stack.beginMacro(f"Add {node_type.title} and connect")
        self.stack.push(AddItemsCommand(self.model, [(node_id, node)], text=f"Add {node_type.title}"))
        self.connect(start, PortRef(node_id, port.name, not start.is_output))
        self.stack.endMacro()
        return node_id

    def delete(
        self,
        node_ids: Iterable[str] = (),
        link_ids: Iterable[str] = (),
        group_ids: Iterable[str] = (),
        note_ids: Iterable[str] = (),
    ) -> None:
        node_ids, link_ids, group_ids, note_ids = list(node_ids), list(link_ids), list(group_ids), list(note_ids)
        if node_ids or link_ids or group_ids or note_ids:
            self.stack.push(RemoveItemsCommand(self.model, node_ids, link_ids, group_ids, note_ids=note_ids))

    def move(
        self,
        positions: dict[str, tuple[tuple[float, float], tuple[float, float]]],
        group_rects: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] | None = None,
        text: str = "Move",
        note_positions: dict[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    ) -> None:
        def changed(pairs: dict[str, Any] | None) -> dict[str, Any]:
            return {k: v for k, v in (pairs or {}).items() if tuple(v[0]) != tuple(v[1])}

        positions, group_rects, note_positions = changed(positions), changed(group_rects), changed(note_positions)
        if positions or group_rects or note_positions:
            self.stack.push(MoveCommand(self.model, positions, group_rects, text, note_positions))

    def _set_field(self, kind: ItemKind, item_id: str, name: str, value: Any, text: str) -> bool:
        """Push one field change unless the value is already there; True when pushed."""
        command = SetFieldCommand(self.model, kind, item_id, name, value, text)
        if command.old == value:
            return False
        self.stack.push(command)
        return True

    def set_param(self, node_id: str, name: str, value: Any, *, mergeable: bool = True) -> None:
        params = self.workflow.nodes[node_id].params
        if value is UNSET and name not in params:
            return
        if value is not UNSET and name in params and params[name] == value and type(params[name]) is type(value):
            return
        self.stack.push(SetParamCommand(self.model, node_id, name, value, mergeable=mergeable))

    def set_title(self, node_id: str, title: str | None) -> None:
        """Rename a node; an empty title (or None) goes back to its type's title."""
        self._set_field("node", node_id, "title", title or None, "Rename node")

    def set_node_color(self, node_id: str, color: str | None) -> None:
        """A node's header colour (#rrggbb); None goes back to the colour of its type."""
        self._set_field("node", node_id, "color", color, "Node colour")

    def set_collapsed(self, node_id: str, collapsed: bool) -> None:
        # Expanding writes None rather than False so a file that never collapsed keeps no such key.
        self._set_field(
            "node", node_id, "collapsed", True if collapsed else None, "Collapse" if collapsed else "Expand"
        )

    # ------------------------------------------------------------------ wires

    def connection_problem(self, a: PortRef, b: PortRef) -> str | None:
        return connection_problem(self.workflow, a, b)

    def connect(self, a: PortRef, b: PortRef) -> str | None:
        """Wire two ports (either order). A single input that is already wired gets the new wire instead.
        Returns the reason when refused."""
        problem = self.connection_problem(a, b)
        if problem is not None:
            return problem
        pair = orient(a, b)
        assert pair is not None
        src, dst = pair
        port = REGISTRY[self.workflow.nodes[dst.node_id].type].input(dst.name)
        assert port is not None
        replaced = [] if port.many else [link.id for link in self.workflow.links_into(dst.node_id, dst.name)]
        link = Link(
            id=self.workflow.new_id(f"{src.node_id}-{dst.node_id}"),
            from_=LinkFrom(node=src.node_id, output=src.name),
            to=LinkTo(node=dst.node_id, input=dst.name),
        )
        if replaced:
            self.stack.beginMacro("Connect")
            self.stack.push(RemoveItemsCommand(self.model, link_ids=replaced, text="Disconnect"))
            self.stack.push(ConnectCommand(self.model, link))
            self.stack.endMacro()
        else:
            self.stack.push(ConnectCommand(self.model, link))
        return None

    def disconnect(self, link_ids: Iterable[str]) -> None:
        ids = list(link_ids)
        if ids:
            self.stack.push(RemoveItemsCommand(self.model, link_ids=ids, text="Disconnect"))

    def move_link(self, link_id: str, step: int) -> bool:
        """Move a wire of a list input up (-1) or down (+1) in its input's order."""
        links = self.workflow.links
        index = next(i for i, link in enumerate(links) if link.id == link_id)
        target = links[index].to
        siblings = [i for i, link in enumerate(links) if link.to == target]
        pos = siblings.index(index) + step
        if not 0 <= pos < len(siblings):
            return False
        self.stack.push(ReorderLinkCommand(self.model, link_id, siblings[pos]))
        return True

    # ------------------------------------------------------------------ groups and layout

    def group(
        self, node_ids: Iterable[str], bounds: tuple[float, float, float, float], title: str = "Group"
    ) -> str | None:
        """A titled frame around `bounds` (the scene rectangle of the chosen nodes)."""
        if not list(node_ids):
            return None
        x, y, w, h = bounds
        group = Group(
            id=self.workflow.new_id("group"),
            title=title,
            rect=(
                round(x - GROUP_MARGIN),
                round(y - GROUP_MARGIN - GROUP_TITLE_HEIGHT),
                round(w + 2 * GROUP_MARGIN),
                round(h + 2 * GROUP_MARGIN + GROUP_TITLE_HEIGHT),
            ),
        )
        self.stack.push(AddGroupCommand(self.model, group))
        return group.id

    def set_group_title(self, group_id: str, title: str) -> None:
        self._set_field("group", group_id, "title", title, "Rename group")

    def set_group_color(self, group_id: str, color: str | None) -> None:
        self._set_field("group", group_id, "color", color, "Group colour")

    def resize_group(self, group_id: str, width: float, height: float) -> None:
        """A new size for a group's frame (its top-left corner stays); the nodes inside stay where they are."""
        group = self.model.group(group_id)
        if group is not None:
            x, y, _, _ = group.rect
            self.move({}, {group_id: (tuple(group.rect), (x, y, float(width), float(height)))}, text="Resize group")

    # ------------------------------------------------------------------ notes

    def add_note(self, position: tuple[float, float], text: str = "", width: float | None = None) -> str:
        x, y = position
        note = Note(id=self.workflow.new_id("note"), text=text, position=(round(x), round(y)), width=width)
        self.stack.push(AddItemsCommand(self.model, [], notes=[note], text="Add note"))
        return note.id

    def set_note_text(self, note_id: str, text: str) -> None:
        self._set_field("note", note_id, "text", text, "Edit note")

    def set_note_width(self, note_id: str, width: float) -> None:
        self._set_field("note", note_id, "width", float(round(width)), "Resize note")

    def auto_layout(self, node_ids: Iterable[str], size_of: Callable[[str], tuple[float, float]]) -> None:
        new = layered_positions(self.workflow, node_ids, size_of)
        positions = {n: (tuple(self.workflow.nodes[n].position), pos) for n, pos in new.items()}
        self.move(positions, text="Auto layout")  # type: ignore[arg-type]

    # ------------------------------------------------------------------ clipboard

    def paste(self, fragment: Workflow, offset: tuple[float, float], text: str = "Paste") -> list[str]:
        """Add a copy of a fragment shifted by `offset`; returns the ids of the new nodes, groups and notes."""
        items = remap_fragment(self.workflow, fragment, offset)
        if not items.nodes and not items.groups and not items.notes:
            return []
        self.stack.push(AddItemsCommand(self.model, items.nodes, items.links, items.groups, text, items.notes))
        return [n for n, _ in items.nodes] + [g.id for g in items.groups] + [n.id for n in items.notes]

    # ------------------------------------------------------------------ after a run

    def apply_seeds_after_run(self, rng: random.Random | None = None) -> list[str]:
        """Each node whose seedAfterRun is increment or randomize gets its next seed; one undoable step."""
        rng = rng or random.Random()
        changes: list[tuple[str, str, int]] = []
        for node_id, node in self.workflow.nodes.items():
            node_type = REGISTRY.get(node.type)
            after = node_type.param("seedAfterRun") if node_type else None
            seed = node_type.param("seed") if node_type else None
            if after is None or seed is None or seed.kind is not Kind.SEED:
                continue
            mode = node.params.get("seedAfterRun", after.default)
            current = node.params.get("seed")
            lo, hi = int(seed.minimum or 0), int(seed.maximum or 2**63 - 1)
            if mode == "increment" and isinstance(current, int):
                changes.append((node_id, "seed", current + 1 if current < hi else lo))
            elif mode == "randomize" and "seed" in node.params:
                changes.append((node_id, "seed", rng.randint(lo, hi)))
        if changes:
            self.stack.beginMacro("Seeds after run")
            for node_id, name, value in changes:
                self.stack.push(SetParamCommand(self.model, node_id, name, value, mergeable=False))
            self.stack.endMacro()
        return [c[0] for c in changes]
