"""Validation: every diagnostic of a graph at once, per node and field, with stable codes.

Errors stop a run; warnings (steps outside an architecture's sweet spot, a negative prompt FLUX ignores, ...)
let it go. The per-value rules come from the parameter declarations; rules spanning fields or nodes come from
each node type's `check` function.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import networkx as nx

from graph_runtime.document import Link, Node, Workflow
from graph_runtime.registry import NodeType, Registry
from graph_runtime.structure import structural_problems

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    node_id: str | None
    node_type: str | None
    field: str | None
    code: str
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = []
        if self.node_id is not None:
            where.append(f"node {self.node_id!r}" + (f" ({self.node_type})" if self.node_type else ""))
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{self.severity}: {prefix}{self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Upstream:
    """A node feeding one of this node's inputs."""

    node_id: str
    node: Node
    node_type: NodeType
    output: str


class NodeCheckContext:
    """What a node type's check function sees: its parameters, its upstream nodes, and where to report."""

    def __init__(self, validation: _Validation, node_id: str, node: Node, node_type: NodeType) -> None:
        self._v = validation
        self.node_id = node_id
        self.node = node
        self.node_type = node_type

    @property
    def base_dir(self) -> Path:
        return self._v.base_dir

    def param(self, name: str) -> Any:
        return self.node.params.get(name)

    def is_set(self, name: str) -> bool:
        return name in self.node.params

    def effective(self, name: str) -> Any:
        """The value that will apply: the one set, else the declared API default."""
        declared = self.node_type.param(name)
        return self.node.params.get(name, declared.default if declared else None)

    def valid(self, name: str) -> bool:
        """Whether the parameter's own value passed its declaration (so cross-field rules can trust it)."""
        return (self.node_id, name) not in self._v.bad_fields

    def upstream(self, input_name: str) -> list[Upstream]:
        return self._v.upstream(self.node_id, input_name)

    def error(self, field: str | None, code: str, message: str, node_id: str | None = None) -> None:
        self._v.report(node_id or self.node_id, field, code, "error", message)

    def warning(self, field: str | None, code: str, message: str, node_id: str | None = None) -> None:
        self._v.report(node_id or self.node_id, field, code, "warning", message)


class _Validation:
    def __init__(self, workflow: Workflow, registry: Registry, base_dir: Path) -> None:
        self.workflow = workflow
        self.registry = registry
        self.base_dir = base_dir
        self.diagnostics: list[Diagnostic] = []
        self.bad_fields: set[tuple[str, str]] = set()
        self.incoming: dict[str, list[Link]] = defaultdict(list)
        for link in workflow.links:
            self.incoming[link.to.node].append(link)

    def report(self, node_id: str | None, field: str | None, code: str, severity: Severity, message: str) -> None:
        node = self.workflow.nodes.get(node_id) if node_id is not None else None
        node_type = node.type if node is not None else None
        self.diagnostics.append(Diagnostic(node_id, node_type, field, code, severity, message))
        if node_id is not None and field is not None and severity == "error":
            self.bad_fields.add((node_id, field))

    def upstream(self, node_id: str, input_name: str) -> list[Upstream]:
        found = []
        for link in self.incoming[node_id]:
            if link.to.input != input_name:
                continue
            src = self.workflow.nodes.get(link.from_.node)
            src_type = self.registry.get(src.type) if src is not None else None
            if src is not None and src_type is not None:
                found.append(Upstream(link.from_.node, src, src_type, link.from_.output))
        return found


def validate(
    workflow: Workflow, registry: Registry | None = None, *, base_dir: str | os.PathLike[str] = "."
) -> list[Diagnostic]:
    """Every diagnostic of the workflow, errors and warnings, in a stable order."""
    if registry is None:
        from nodes import REGISTRY as registry
    v = _Validation(workflow, registry, Path(base_dir))

    for problem in structural_problems(workflow, registry):
        v.report(problem.node_id, problem.field, problem.code, "error", problem.message)
    _check_links(v)
    graph = _check_cycles(v)
    for node_id, node in workflow.nodes.items():
        node_type = registry.get(node.type)
        if node_type is not None:
            _check_node(v, node_id, node, node_type)
    _check_reachability(v, graph)
    return v.diagnostics


def _check_links(v: _Validation) -> None:
    wf, reg = v.workflow, v.registry
    seen: set[tuple[str, str, str, str]] = set()
    per_input: dict[tuple[str, str], int] = defaultdict(int)
    for link in wf.links:
        src, dst = wf.nodes.get(link.from_.node), wf.nodes.get(link.to.node)
        src_t = reg.get(src.type) if src else None
        dst_t = reg.get(dst.type) if dst else None
        out_port = src_t.output(link.from_.output) if src_t else None
        in_port = dst_t.input(link.to.input) if dst_t else None
        if out_port is None or in_port is None:
            continue  # a dangling link or unknown port, already reported
        key = (link.from_.node, link.from_.output, link.to.node, link.to.input)
        if key in seen:
            v.report(
                link.to.node,
                link.to.input,
                "duplicate_link",
                "error",
                f"{link.from_.node}.{link.from_.output} is linked to this input more than once",
            )
        seen.add(key)
        per_input[(link.to.node, link.to.input)] += 1
        if out_port.type != in_port.type:
            v.report(
                link.to.node,
                link.to.input,
                "type_mismatch",
                "error",
                f"input {in_port.name!r} takes {in_port.type}, but {link.from_.node}.{out_port.name} "
                f"gives {out_port.type}",
            )
    for (node_id, input_name), count in per_input.items():
        in_port = reg[wf.nodes[node_id].type].input(input_name)
        if in_port is not None and not in_port.many and count > 1:
            v.report(
                node_id,
                input_name,
                "too_many_links",
                "error",
                f"input {input_name!r} takes one link, but {count} are connected",
            )


def _check_cycles(v: _Validation) -> nx.DiGraph:
    from graph_runtime.compile import build_graph  # compile imports this module

    graph = build_graph(v.workflow)
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
            members = sorted(component)
            for node_id in members:
                v.report(
                    node_id,
                    None,
                    "cycle",
                    "error",
                    f"part of a cycle ({' -> '.join(members)}); a workflow must flow one way",
                )
    return graph


def _check_node(v: _Validation, node_id: str, node: Node, node_type: NodeType) -> None:
    for port in node_type.inputs:
        if port.required and not any(link.to.input == port.name for link in v.incoming[node_id]):
            v.report(
                node_id, port.name, "required_input_missing", "error", f"input {port.name!r} ({port.type}) needs a link"
            )
    for param in node_type.params:
        if param.name not in node.params:
            if param.required:
                v.report(
                    node_id,
                    param.name,
                    "required_param_missing",
                    "error",
                    f"{param.name!r} is required" + (f" ({param.range_text})" if param.range_text else ""),
                )
            continue
        for issue in param.check(node.params[param.name]):
            v.report(node_id, param.name, issue.code, "error", issue.message)
        partner = param.exclusive_with
        if partner and partner in node.params and param.name < partner:
            v.report(
                node_id,
                param.name,
                "exclusive_fields",
                "error",
                f"set {param.name!r} or {partner!r}, not both: they are two forms of one bound",
            )
    if node_type.check is not None:
        node_type.check(NodeCheckContext(v, node_id, node, node_type))


def _check_reachability(v: _Validation, graph: nx.DiGraph) -> None:
    from graph_runtime.compile import needed_nodes

    if not any((nt := v.registry.get(n.type)) is not None and nt.is_output for n in v.workflow.nodes.values()):
        if v.workflow.nodes:
            v.report(
                None,
                None,
                "no_output",
                "error",
                "the workflow has no Save Image or Preview Image node, so a run would produce nothing",
            )
        return
    needed = needed_nodes(v.workflow, v.registry, graph)
    for node_id in v.workflow.nodes:
        if node_id not in needed:
            v.report(
                node_id, None, "not_used", "warning", "leads to no Save Image or Preview Image node, so it will not run"
            )
