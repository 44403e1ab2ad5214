"""Auto-layout: columns by topological generation (networkx), rows stacked by node height. Qt-free."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import networkx as nx

from graph_runtime.document import Workflow

COLUMN_GAP = 80.0
ROW_GAP = 40.0


def layered_positions(
    workflow: Workflow,
    node_ids: Iterable[str],
    size_of: Callable[[str], tuple[float, float]],
) -> dict[str, tuple[float, float]]:
    """New positions for `node_ids`, laid out left to right by generation, anchored at their current top-left.

    Nodes inside a cycle (which validation reports) are placed after the rest rather than refused.
    """
    ids = [n for n in node_ids if n in workflow.nodes]
    if not ids:
        return {}
    chosen = set(ids)
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    graph.add_edges_from(
        (link.from_.node, link.to.node)
        for link in workflow.links
        if link.from_.node in chosen and link.to.node in chosen and link.from_.node != link.to.node
    )
    order = {n: i for i, n in enumerate(ids)}  # keep document order within a column: stable layouts
    try:
        generations = [sorted(g, key=order.__getitem__) for g in nx.topological_generations(graph)]
    except nx.NetworkXUnfeasible:
        acyclic = nx.condensation(graph)
        generations = [
            sorted((n for c in g for n in acyclic.nodes[c]["members"]), key=order.__getitem__)
            for g in nx.topological_generations(acyclic)
        ]
    left = min(workflow.nodes[n].position[0] for n in ids)
    top = min(workflow.nodes[n].position[1] for n in ids)
    positions: dict[str, tuple[float, float]] = {}
    x = left
    for column in generations:
        y = top
        width = 0.0
        for node_id in column:
            w, h = size_of(node_id)
            positions[node_id] = (round(x, 1), round(y, 1))
            y += h + ROW_GAP
            width = max(width, w)
        x += width + COLUMN_GAP
    return positions
