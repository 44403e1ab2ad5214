"""The editor's document: one Workflow plus signals that say what changed.

Undo commands call these primitive operations and nothing else; the canvas, inspector and problems panel
listen to the signals. Every removal returns where the item was, so that an undo puts it back at the same
place in the dict or list and the saved file comes out byte-identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from graph_runtime.document import Group, Link, Node, Note, Workflow
from graph_runtime.registry import NodeType
from nodes import REGISTRY


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: A parameter that is not in node.params (the API default applies).
UNSET: Any = _Unset()


def _insert_at(mapping: dict[str, Any], index: int | None, key: str, value: Any) -> None:
    """Put key at position `index` of the dict in place (None: at the end)."""
    if index is None or index >= len(mapping):
        mapping[key] = value
        return
    items = list(mapping.items())
    items.insert(index, (key, value))
    mapping.clear()
    mapping.update(items)


class DocumentModel(QObject):
    node_added = Signal(str)
    node_removed = Signal(str)
    node_changed = Signal(str)  # parameters, title, colour, collapsed
    node_moved = Signal(str)
    link_added = Signal(str)
    link_removed = Signal(object)  # the Link that went away
    links_reordered = Signal(str, str)  # node id, input name
    group_added = Signal(str)
    group_removed = Signal(str)
    group_changed = Signal(str)
    note_added = Signal(str)
    note_removed = Signal(str)
    note_changed = Signal(str)  # text, position or width
    reset = Signal()  # the whole workflow was replaced
    changed = Signal()  # after any of the above

    def __init__(self, workflow: Workflow | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workflow = workflow or Workflow()
        self.path: Path | None = None
        self._base_dir: Path | None = None

    # ------------------------------------------------------------------ context

    @property
    def base_dir(self) -> Path:
        """Where relative file paths in the workflow start: the file's folder, else a chosen or current one."""
        if self.path is not None:
            return self.path.parent
        return self._base_dir or Path.cwd()

    def set_base_dir(self, folder: Path | None) -> None:
        self._base_dir = folder

    def node_type(self, node_id: str) -> NodeType:
        return REGISTRY[self.workflow.nodes[node_id].type]

    def replace(self, workflow: Workflow, path: Path | None = None, base_dir: Path | None = None) -> None:
        self.workflow = workflow
        self.path = path
        self._base_dir = base_dir
        self.reset.emit()
        self.changed.emit()

    # ------------------------------------------------------------------ nodes

    def add_node(self, node_id: str, node: Node, index: int | None = None) -> None:
        _insert_at(self.workflow.nodes, index, node_id, node)
        self.node_added.emit(node_id)
        self.changed.emit()

    def remove_node(self, node_id: str) -> tuple[Node, int]:
        """Remove a node (its links must be gone already); returns it and its index for undo."""
        index = list(self.workflow.nodes).index(node_id)
        node = self.workflow.nodes.pop(node_id)
        self.node_removed.emit(node_id)
        self.changed.emit()
        return node, index

    def set_position(self, node_id: str, position: tuple[float, float]) -> None:
        node = self.workflow.nodes[node_id]
        if tuple(node.position) != tuple(position):
            node.position = position
        self.node_moved.emit(node_id)
        self.changed.emit()

    def set_param(self, node_id: str, name: str, value: Any, index: int | None = None) -> tuple[Any, int | None]:
        """Set (or with UNSET, remove) a parameter; returns the previous value and its index for undo."""
        params = self.workflow.nodes[node_id].params
        old, old_index = (params[name], list(params).index(name)) if name in params else (UNSET, None)
        if value is UNSET:
            params.pop(name, None)
        elif name in params:
            params[name] = value
        else:
            _insert_at(params, index, name, value)
        self.node_changed.emit(node_id)
        self.changed.emit()
        return old, old_index

    def set_title(self, node_id: str, title: str | None) -> str | None:
        return self.set_node_field(node_id, "title", title)

    def set_node_field(self, node_id: str, name: str, value: Any) -> Any:
        """Set a node's title, color or collapsed (None drops it from the file); returns the old value."""
        node = self.workflow.nodes[node_id]
        old = getattr(node, name)
        setattr(node, name, value)
        self.node_changed.emit(node_id)
        self.changed.emit()
        return old

    # ------------------------------------------------------------------ links

    def link(self, link_id: str) -> Link | None:
        return next((link for link in self.workflow.links if link.id == link_id), None)

    def add_link(self, link: Link, index: int | None = None) -> None:
        links = self.workflow.links
        links.insert(len(links) if index is None else index, link)
        self.link_added.emit(link.id)
        self.links_reordered.emit(link.to.node, link.to.input)
        self.changed.emit()

    def remove_link(self, link_id: str) -> tuple[Link, int]:
        links = self.workflow.links
        index = next(i for i, link in enumerate(links) if link.id == link_id)
        link = links.pop(index)
        self.link_removed.emit(link)
        self.links_reordered.emit(link.to.node, link.to.input)
        self.changed.emit()
        return link, index

    def move_link(self, link_id: str, new_index: int) -> int:
        """Move a link within workflow.links (the order of a list input); returns its old index."""
        links = self.workflow.links
        index = next(i for i, link in enumerate(links) if link.id == link_id)
        link = links.pop(index)
        links.insert(new_index, link)
        self.links_reordered.emit(link.to.node, link.to.input)
        self.changed.emit()
        return index

    # ------------------------------------------------------------------ groups

    def group(self, group_id: str) -> Group | None:
        return next((g for g in self.workflow.groups if g.id == group_id), None)

    def add_group(self, group: Group, index: int | None = None) -> None:
        groups = self.workflow.groups
        groups.insert(len(groups) if index is None else index, group)
        self.group_added.emit(group.id)
        self.changed.emit()

    def remove_group(self, group_id: str) -> tuple[Group, int]:
        groups = self.workflow.groups
        index = next(i for i, g in enumerate(groups) if g.id == group_id)
        group = groups.pop(index)
        self.group_removed.emit(group_id)
        self.changed.emit()
        return group, index

    def set_group_rect(self, group_id: str, rect: tuple[float, float, float, float]) -> None:
        group = self.group(group_id)
        if group is not None:
            group.rect = rect
            self.group_changed.emit(group_id)
            self.changed.emit()

    def set_group_title(self, group_id: str, title: str) -> str:
        return self.set_group_field(group_id, "title", title)

    def set_group_field(self, group_id: str, name: str, value: Any) -> Any:
        """Set a group's title, rect or color; returns the old value."""
        group = self.group(group_id)
        assert group is not None
        old = getattr(group, name)
        setattr(group, name, value)
        self.group_changed.emit(group_id)
        self.changed.emit()
        return old

    # ------------------------------------------------------------------ notes

    def note(self, note_id: str) -> Note | None:
        return next((n for n in self.workflow.notes if n.id == note_id), None)

    def add_note(self, note: Note, index: int | None = None) -> None:
        notes = self.workflow.notes
        notes.insert(len(notes) if index is None else index, note)
        self.note_added.emit(note.id)
        self.changed.emit()

    def remove_note(self, note_id: str) -> tuple[Note, int]:
        notes = self.workflow.notes
        index = next(i for i, n in enumerate(notes) if n.id == note_id)
        note = notes.pop(index)
        self.note_removed.emit(note_id)
        self.changed.emit()
        return note, index

    def set_note_field(self, note_id: str, name: str, value: Any) -> Any:
        """Set a note's text, position or width; returns the old value."""
        note = self.note(note_id)
        assert note is not None
        old = getattr(note, name)
        if old != value:
            setattr(note, name, value)
        self.note_changed.emit(note_id)
        self.changed.emit()
        return old
