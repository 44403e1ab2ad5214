"""The editing operations a person performs, each pushed as one undoable step on the session's stack.

Widgets call these; these build commands; commands change the model. Keeping this layer free of widgets
makes every operation testable without a mouse.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtGui import QUndoStack

from app.editor.commands import (
    AddGroupCommand,
    AddItemsCommand,
    ConnectCommand,
    MoveCommand,
    RemoveItemsCommand,
    ReorderLinkCommand,
    SetGroupTitleCommand,
    SetParamCommand,
    SetTitleCommand,
)
from app.editor.connections import PortRef, connection_problem, orient
from app.editor.document_model import UNSET, DocumentModel
from app.editor.fragments import remap_fragment
from app.editor.layout import layered_positions
from graph_runtime.document import Group, Link, LinkFrom, LinkTo, Node, Workflow
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

    def delete(self, node_ids: Iterable[str] = (), link_ids: Iterable[str] = (), group_ids: Iterable[str] = ()) -> None:
        node_ids, link_ids, group_ids = list(node_ids), list(link_ids), list(group_ids)
        if node_ids or link_ids or group_ids:
            self.stack.push(RemoveItemsCommand(self.model, node_ids, link_ids, group_ids))

    def move(
        self,
        positions: dict[str, tuple[tuple[float, float], tuple[float, float]]],
        group_rects: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] | None = None,
        text: str = "Move",
    ) -> None:
        positions = {k: v for k, v in positions.items() if tuple(v[0]) != tuple(v[1])}
        group_rects = {k: v for k, v in (group_rects or {}).items() if tuple(v[0]) != tuple(v[1])}
        if positions or group_rects:
            self.stack.push(MoveCommand(self.model, positions, group_rects, text))

    def set_param(self, node_id: str, name: str, value: Any, *, mergeable: bool = True) -> None:
        params = self.workflow.nodes[node_id].params
        if value is UNSET and name not in params:
            return
        if value is not UNSET and name in params and params[name] == value and type(params[name]) is type(value):
            return
        self.stack.push(SetParamCommand(self.model, node_id, name, value, mergeable=mergeable))

    def set_title(self, node_id: str, title: str | None) -> None:
        if self.workflow.nodes[node_id].title != title:
            self.stack.push(SetTitleCommand(self.model, node_id, title))

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
        self.stack.push(SetGroupTitleCommand(self.model, group_id, title))

    def auto_layout(self, node_ids: Iterable[str], size_of: Callable[[str], tuple[float, float]]) -> None:
        new = layered_positions(self.workflow, node_ids, size_of)
        positions = {n: (tuple(self.workflow.nodes[n].position), pos) for n, pos in new.items()}
        self.move(positions, text="Auto layout")  # type: ignore[arg-type]

    # ------------------------------------------------------------------ clipboard

    def paste(self, fragment: Workflow, offset: tuple[float, float], text: str = "Paste") -> list[str]:
        items = remap_fragment(self.workflow, fragment, offset)
        if not items.nodes and not items.groups:
            return []
        self.stack.push(AddItemsCommand(self.model, items.nodes, items.links, items.groups, text=text))
        return [node_id for node_id, _ in items.nodes]

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
