"""Workflow fragments: what copy puts on the clipboard and paste brings back. Qt-free.

A fragment is itself a Workflow (the selected nodes, the links between them, the chosen groups and notes), so the
clipboard holds plain workflow JSON that any Loomware window, or a text editor, understands.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graph_runtime.document import Group, Link, LinkFrom, LinkTo, Metadata, Node, Note, Workflow, dumps, loads
from graph_runtime.problems import WorkflowLoadError

MIME_TYPE = "application/x-loomware-fragment+json"


def make_fragment(
    workflow: Workflow, node_ids: Iterable[str], group_ids: Iterable[str] = (), note_ids: Iterable[str] = ()
) -> Workflow:
    chosen = [n for n in node_ids if n in workflow.nodes]
    keep = set(chosen)
    groups = set(group_ids)
    notes = set(note_ids)
    return Workflow(
        metadata=Metadata(name="Fragment"),
        nodes={n: workflow.nodes[n].model_copy(deep=True) for n in chosen},
        links=[
            link.model_copy(deep=True) for link in workflow.links if link.from_.node in keep and link.to.node in keep
        ],
        groups=[g.model_copy(deep=True) for g in workflow.groups if g.id in groups],
        notes=[n.model_copy(deep=True) for n in workflow.notes if n.id in notes],
    )


def is_empty(fragment: Workflow) -> bool:
    return not (fragment.nodes or fragment.groups or fragment.notes)


def top_left(fragment: Workflow) -> tuple[float, float]:
    """The top-left corner of everything in a fragment, so a paste can put it under the cursor."""
    points = [tuple(n.position) for n in fragment.nodes.values()]
    points += [(g.rect[0], g.rect[1]) for g in fragment.groups]
    points += [tuple(n.position) for n in fragment.notes]
    return (min(p[0] for p in points), min(p[1] for p in points)) if points else (0.0, 0.0)


def fragment_text(fragment: Workflow) -> str:
    return dumps(fragment)


def parse_fragment(text: str) -> Workflow | None:
    """The workflow in clipboard text, or None when the text is not a loadable workflow."""
    try:
        return loads(text)
    except WorkflowLoadError:
        return None


@dataclass
class PastedItems:
    nodes: list[tuple[str, Node]]
    links: list[Link]
    groups: list[Group]
    notes: list[Note]


def unique_id(taken: set[str], prefix: str) -> str:
    """The same scheme as Workflow.new_id (prefix, prefix_2, ...), over an explicit set of taken ids."""
    if prefix not in taken:
        taken.add(prefix)
        return prefix
    i = 2
    while f"{prefix}_{i}" in taken:
        i += 1
    taken.add(f"{prefix}_{i}")
    return f"{prefix}_{i}"


def taken_ids(workflow: Workflow) -> set[str]:
    return {
        *workflow.nodes,
        *(x.id for x in workflow.links),
        *(g.id for g in workflow.groups),
        *(n.id for n in workflow.notes),
    }


def remap_fragment(target: Workflow, fragment: Workflow, offset: tuple[float, float]) -> PastedItems:
    """The fragment's items with ids that are free in `target` and positions shifted by `offset`."""
    taken = taken_ids(target)
    dx, dy = offset
    new_ids: dict[str, str] = {}
    nodes: list[tuple[str, Node]] = []
    for old_id, node in fragment.nodes.items():
        new_id = unique_id(taken, old_id)
        new_ids[old_id] = new_id
        copy = node.model_copy(deep=True)
        copy.position = (node.position[0] + dx, node.position[1] + dy)
        nodes.append((new_id, copy))
    links = [
        Link(
            id=unique_id(taken, f"{new_ids[link.from_.node]}-{new_ids[link.to.node]}"),
            from_=LinkFrom(node=new_ids[link.from_.node], output=link.from_.output),
            to=LinkTo(node=new_ids[link.to.node], input=link.to.input),
        )
        for link in fragment.links
        if link.from_.node in new_ids and link.to.node in new_ids
    ]
    groups = []
    for group in fragment.groups:
        x, y, w, h = group.rect
        groups.append(
            Group(id=unique_id(taken, group.id), title=group.title, rect=(x + dx, y + dy, w, h), color=group.color)
        )
    notes = [
        Note(
            id=unique_id(taken, note.id),
            text=note.text,
            position=(note.position[0] + dx, note.position[1] + dy),
            width=note.width,
        )
        for note in fragment.notes
    ]
    return PastedItems(nodes, links, groups, notes)
