"""Workflow fragments: what copy puts on the clipboard and paste brings back. Qt-free.

A fragment is itself a Workflow (the selected nodes, the links between them and the chosen groups), so the
clipboard holds plain workflow JSON that any Loomware window, or a text editor, understands.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from graph_runtime.document import Group, Link, LinkFrom, LinkTo, Metadata, Node, Workflow, dumps, loads
from graph_runtime.problems import WorkflowLoadError

MIME_TYPE = "application/x-loomware-fragment+json"


def make_fragment(workflow: Workflow, node_ids: Iterable[str], group_ids: Iterable[str] = ()) -> Workflow:
    chosen = [n for n in node_ids if n in workflow.nodes]
    keep = set(chosen)
    groups = set(group_ids)
    return Workflow(
        metadata=Metadata(name="Fragment"),
        nodes={n: workflow.nodes[n].model_copy(deep=True) for n in chosen},
        links=[
            link.model_copy(deep=True) for link in workflow.links if link.from_.node in keep and link.to.node in keep
        ],
        groups=[g.model_copy(deep=True) for g in workflow.groups if g.id in groups],
    )


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
    return PastedItems(nodes, links, groups)
