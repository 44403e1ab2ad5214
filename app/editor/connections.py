"""Which ports may be wired together, and why not. Qt-free, shared by the canvas and the tests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from graph_runtime.document import Workflow
from graph_runtime.registry import PortType
from nodes import REGISTRY


@dataclass(frozen=True)
class PortRef:
    node_id: str
    name: str
    is_output: bool

    def port_type(self, workflow: Workflow) -> PortType | None:
        node = workflow.nodes.get(self.node_id)
        node_type = REGISTRY.get(node.type) if node else None
        if node_type is None:
            return None
        port = node_type.output(self.name) if self.is_output else node_type.input(self.name)
        return port.type if port else None


def _reachable(workflow: Workflow, start: str, downstream: bool) -> set[str]:
    edges: dict[str, list[str]] = defaultdict(list)
    for link in workflow.links:
        a, b = (link.from_.node, link.to.node) if downstream else (link.to.node, link.from_.node)
        edges[a].append(b)
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def orient(a: PortRef, b: PortRef) -> tuple[PortRef, PortRef] | None:
    """(output, input) from two ports in either order, or None when both are outputs or both inputs."""
    if a.is_output and not b.is_output:
        return a, b
    if b.is_output and not a.is_output:
        return b, a
    return None


def connection_problem(workflow: Workflow, a: PortRef, b: PortRef) -> str | None:
    """Why a wire between these two ports is refused, or None when it is fine."""
    pair = orient(a, b)
    if pair is None:
        both = "outputs" if a.is_output else "inputs"
        return f"cannot connect two {both}: wire an output to an input"
    src, dst = pair
    if src.node_id == dst.node_id:
        return "a node cannot feed itself"
    src_type, dst_type = src.port_type(workflow), dst.port_type(workflow)
    if src_type != dst_type:
        return f"{src.node_id}.{src.name} gives {src_type}, but {dst.node_id}.{dst.name} takes {dst_type}"
    for link in workflow.links:
        if (link.from_.node, link.from_.output, link.to.node, link.to.input) == (
            src.node_id,
            src.name,
            dst.node_id,
            dst.name,
        ):
            return "these ports are already connected"
    if src.node_id in _reachable(workflow, dst.node_id, downstream=True):
        return f"that would make a cycle: {src.node_id} already depends on {dst.node_id}"
    return None


def compatible_ports(workflow: Workflow, start: PortRef) -> set[PortRef]:
    """Every port a wire dragged from `start` may end on (for highlighting while dragging)."""
    port_type = start.port_type(workflow)
    # A wire from an output may not reach back into anything upstream of it, and vice versa.
    blocked = _reachable(workflow, start.node_id, downstream=not start.is_output)
    existing = {(link.from_.node, link.from_.output, link.to.node, link.to.input) for link in workflow.links}
    found: set[PortRef] = set()
    for node_id, node in workflow.nodes.items():
        if node_id in blocked:
            continue
        node_type = REGISTRY.get(node.type)
        if node_type is None:
            continue
        ports = node_type.inputs if start.is_output else node_type.outputs
        for port in ports:
            if port.type != port_type:
                continue
            key = (
                (start.node_id, start.name, node_id, port.name)
                if start.is_output
                else (node_id, port.name, start.node_id, start.name)
            )
            if key not in existing:
                found.add(PortRef(node_id, port.name, not start.is_output))
    return found
