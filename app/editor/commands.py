"""Undoable edits. Each command changes the document model only; the views follow the model's signals.

One command per kind of change; a compound action (connect that replaces a wire, add-and-wire from the
palette, seeds after a run) is one macro on the stack, so one Ctrl+Z takes it all back.
"""

from __future__ import annotations

from typing import Any, Literal

from PySide6.QtGui import QUndoCommand

from app.editor.document_model import UNSET, DocumentModel
from graph_runtime.document import Group, Link, Node, Note

ItemKind = Literal["node", "group", "note"]

_MERGE_PARAM = 1001
_MERGE_NEW_NOTE = 1002  # a new note and the text typed into it right away: one step


class AddItemsCommand(QUndoCommand):
    """Add nodes, links, groups and notes (a new node or note, a paste, a duplicate)."""

    def __init__(
        self,
        model: DocumentModel,
        nodes: list[tuple[str, Node]],
        links: list[Link] = (),  # type: ignore[assignment]
        groups: list[Group] = (),  # type: ignore[assignment]
        text: str = "Add node",
        notes: list[Note] = (),  # type: ignore[assignment]
    ) -> None:
        super().__init__(text)
        self.model = model
        self.nodes = [(i, n.model_copy(deep=True)) for i, n in nodes]
        self.links = [link.model_copy(deep=True) for link in links]
        self.groups = [g.model_copy(deep=True) for g in groups]
        self.notes = [n.model_copy(deep=True) for n in notes]
        self._fresh_note = not nodes and not links and not groups and len(self.notes) == 1

    def id(self) -> int:
        return _MERGE_NEW_NOTE if self._fresh_note else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Take in the first text typed into a note this command just added (Add Note, type, done: one step)."""
        if not (isinstance(other, SetFieldCommand) and other.kind == "note" and other.name == "text"):
            return False
        if other.item_id != self.notes[0].id:
            return False
        self.notes[0].text = other.value
        self._fresh_note = False  # later edits of the note are steps of their own
        return True

    def redo(self) -> None:
        for node_id, node in self.nodes:
            self.model.add_node(node_id, node.model_copy(deep=True))
        for link in self.links:
            self.model.add_link(link.model_copy(deep=True))
        for group in self.groups:
            self.model.add_group(group.model_copy(deep=True))
        for note in self.notes:
            self.model.add_note(note.model_copy(deep=True))

    def undo(self) -> None:
        for note in reversed(self.notes):
            self.model.remove_note(note.id)
        for group in reversed(self.groups):
            self.model.remove_group(group.id)
        for link in reversed(self.links):
            self.model.remove_link(link.id)
        for node_id, _ in reversed(self.nodes):
            self.model.remove_node(node_id)


class RemoveItemsCommand(QUndoCommand):
    """Delete nodes (with every link touching them), links, groups and notes; undo puts each back where it was."""

    def __init__(
        self,
        model: DocumentModel,
        node_ids: list[str] = (),  # type: ignore[assignment]
        link_ids: list[str] = (),  # type: ignore[assignment]
        group_ids: list[str] = (),  # type: ignore[assignment]
        text: str = "Delete",
        note_ids: list[str] = (),  # type: ignore[assignment]
    ) -> None:
        super().__init__(text)
        self.model = model
        self.node_ids = list(node_ids)
        self.link_ids = list(link_ids)
        self.group_ids = list(group_ids)
        self.note_ids = list(note_ids)
        self._removed_nodes: list[tuple[str, Node, int]] = []
        self._removed_links: list[tuple[Link, int]] = []
        self._removed_groups: list[tuple[Group, int]] = []
        self._removed_notes: list[tuple[Note, int]] = []

    def redo(self) -> None:
        wf = self.model.workflow
        gone = set(self.node_ids)
        link_ids = set(self.link_ids) | {
            link.id for link in wf.links if link.from_.node in gone or link.to.node in gone
        }
        # Remove from the back so the recorded indices are valid when re-inserted front to back.
        self._removed_links = []
        for i in range(len(wf.links) - 1, -1, -1):
            if wf.links[i].id in link_ids:
                self._removed_links.append(self.model.remove_link(wf.links[i].id))
        self._removed_nodes = []
        for node_id in reversed(list(wf.nodes)):
            if node_id in gone:
                node, index = self.model.remove_node(node_id)
                self._removed_nodes.append((node_id, node, index))
        self._removed_groups = []
        for i in range(len(wf.groups) - 1, -1, -1):
            if wf.groups[i].id in self.group_ids:
                self._removed_groups.append(self.model.remove_group(wf.groups[i].id))
        self._removed_notes = []
        for i in range(len(wf.notes) - 1, -1, -1):
            if wf.notes[i].id in self.note_ids:
                self._removed_notes.append(self.model.remove_note(wf.notes[i].id))

    def undo(self) -> None:
        for note, index in reversed(self._removed_notes):
            self.model.add_note(note, index)
        for group, index in reversed(self._removed_groups):
            self.model.add_group(group, index)
        for node_id, node, index in reversed(self._removed_nodes):
            self.model.add_node(node_id, node, index)
        for link, index in reversed(self._removed_links):
            self.model.add_link(link, index)


class MoveCommand(QUndoCommand):
    """Node and note positions and group rectangles, before and after (a drag, a resize, an auto-layout)."""

    def __init__(
        self,
        model: DocumentModel,
        positions: dict[str, tuple[tuple[float, float], tuple[float, float]]],
        group_rects: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] | None = None,
        text: str = "Move",
        note_positions: dict[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    ) -> None:
        super().__init__(text)
        self.model = model
        self.positions = positions
        self.group_rects = group_rects or {}
        self.note_positions = note_positions or {}

    def _apply(self, which: int) -> None:
        for node_id, pair in self.positions.items():
            if node_id in self.model.workflow.nodes:
                self.model.set_position(node_id, pair[which])
        for group_id, pair in self.group_rects.items():
            self.model.set_group_rect(group_id, pair[which])  # type: ignore[arg-type]
        for note_id, pair in self.note_positions.items():
            if self.model.note(note_id) is not None:
                self.model.set_note_field(note_id, "position", pair[which])

    def redo(self) -> None:
        self._apply(1)

    def undo(self) -> None:
        self._apply(0)


class ConnectCommand(QUndoCommand):
    def __init__(self, model: DocumentModel, link: Link, text: str = "Connect") -> None:
        super().__init__(text)
        self.model = model
        self.link = link.model_copy(deep=True)

    def redo(self) -> None:
        self.model.add_link(self.link.model_copy(deep=True))

    def undo(self) -> None:
        self.model.remove_link(self.link.id)


class ReorderLinkCommand(QUndoCommand):
    """Move a link within workflow.links: the order of the wires on a list input."""

    def __init__(self, model: DocumentModel, link_id: str, new_index: int, text: str = "Reorder wires") -> None:
        super().__init__(text)
        self.model = model
        self.link_id = link_id
        self.new_index = new_index
        self.old_index = -1

    def redo(self) -> None:
        self.old_index = self.model.move_link(self.link_id, self.new_index)

    def undo(self) -> None:
        self.model.move_link(self.link_id, self.old_index)


class SetParamCommand(QUndoCommand):
    """Set or unset one parameter. Consecutive typing into one field merges into a single step."""

    def __init__(self, model: DocumentModel, node_id: str, name: str, value: Any, *, mergeable: bool = True) -> None:
        super().__init__(f"Set {name}" if value is not UNSET else f"Reset {name}")
        self.model = model
        self.node_id = node_id
        self.name = name
        self.value = value
        self.mergeable = mergeable
        params = model.workflow.nodes[node_id].params
        self.old = params.get(name, UNSET)
        self.old_index = list(params).index(name) if name in params else None

    def id(self) -> int:
        return _MERGE_PARAM if self.mergeable else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParamCommand) or not other.mergeable:
            return False
        if (other.node_id, other.name) != (self.node_id, self.name):
            return False
        self.value = other.value
        if self.value == self.old and type(self.value) is type(self.old):
            self.setObsolete(True)  # typed back to where it started: nothing to undo
        return True

    def redo(self) -> None:
        self.model.set_param(self.node_id, self.name, self.value)

    def undo(self) -> None:
        self.model.set_param(self.node_id, self.name, self.old, self.old_index)


class SetFieldCommand(QUndoCommand):
    """Set one field of a node, group or note (title, colour, collapsed, text, width): one undoable step."""

    def __init__(self, model: DocumentModel, kind: ItemKind, item_id: str, name: str, value: Any, text: str) -> None:
        super().__init__(text)
        self.model = model
        self.kind = kind
        self.item_id = item_id
        self.name = name
        self.value = value
        self.old = getattr(self._target(), name)

    def _target(self) -> Any:
        if self.kind == "node":
            return self.model.workflow.nodes[self.item_id]
        return self.model.group(self.item_id) if self.kind == "group" else self.model.note(self.item_id)

    def id(self) -> int:
        return _MERGE_NEW_NOTE if (self.kind, self.name) == ("note", "text") else -1

    def _set(self, value: Any) -> None:
        setter = {
            "node": self.model.set_node_field,
            "group": self.model.set_group_field,
            "note": self.model.set_note_field,
        }[self.kind]
        setter(self.item_id, self.name, value)

    def redo(self) -> None:
        self._set(self.value)

    def undo(self) -> None:
        self._set(self.old)


class AddGroupCommand(QUndoCommand):
    def __init__(self, model: DocumentModel, group: Group) -> None:
        super().__init__("Group")
        self.model = model
        self.group = group.model_copy(deep=True)

    def redo(self) -> None:
        self.model.add_group(self.group.model_copy(deep=True))

    def undo(self) -> None:
        self.model.remove_group(self.group.id)
