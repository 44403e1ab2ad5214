"""Referential checks of a workflow against the node registry: types, ports, ids, parameter names.

Shared by loading (where the fatal ones stop the load) and validation (where every one becomes a diagnostic,
since the editor builds documents in memory that never went through a file).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from graph_runtime.problems import Problem

if TYPE_CHECKING:
    from graph_runtime.document import Workflow
    from graph_runtime.registry import Registry


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else f"; known: {', '.join(known)}"


def structural_problems(workflow: Workflow, registry: Registry) -> Iterator[Problem]:
    type_ids = registry.ids()
    for node_id, node in workflow.nodes.items():
        node_type = registry.get(node.type)
        if node_type is None:
            yield Problem(
                f"unknown node type {node.type!r}{_suggest(node.type, type_ids)}",
                node_id=node_id,
                field="type",
                code="unknown_node_type",
            )
            continue
        if node.version > node_type.version:
            yield Problem(
                f"written by a newer version ({node.version}) of node type {node.type!r} than this Loomware has "
                f"({node_type.version}); update Loomware",
                node_id=node_id,
                field="version",
                code="newer_version",
            )
        known = [p.name for p in node_type.params]
        for name in node.params:
            if node_type.param(name) is None:
                yield Problem(
                    f"{node.type!r} has no parameter {name!r}{_suggest(name, known)}",
                    node_id=node_id,
                    field=f"params.{name}",
                    code="unknown_parameter",
                    fatal=False,
                )

    id_counts = Counter(link.id for link in workflow.links)
    for link_id, count in id_counts.items():
        if count > 1:
            yield Problem(f"link id {link_id!r} is used by {count} links", field="links", code="duplicate_id")

    for i, link in enumerate(workflow.links):
        label = f"links[{i}] (id {link.id!r})"
        for end, node_id, port, kind in (
            ("from", link.from_.node, link.from_.output, "output"),
            ("to", link.to.node, link.to.input, "input"),
        ):
            node = workflow.nodes.get(node_id)
            if node is None:
                yield Problem(
                    f"links to node {node_id!r}, which does not exist", field=f"{label}.{end}", code="dangling_link"
                )
                continue
            node_type = registry.get(node.type)
            if node_type is None:
                continue  # already reported on the node
            ports = node_type.outputs if kind == "output" else node_type.inputs
            names = [p.name for p in ports]
            if port not in names:
                have = f"; its {kind}s are {', '.join(names)}" if names else f"; it has no {kind}s"
                yield Problem(
                    f"node {node_id!r} ({node.type}) has no {kind} {port!r}{have}",
                    field=f"{label}.{end}",
                    code="unknown_port",
                )
