"""Compile a workflow into an execution plan: API tasks plus the references between them.

The graph is a networkx DAG; only nodes that lead to an output node are compiled, in topological order. Each
node type's compile function sees its input values and set parameters and may add tasks; the values it returns
flow along links to the next nodes. Parameters a person did not set stay out of the task, so the API's model
defaults apply.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from graph_runtime.document import Link, Node, Workflow
from graph_runtime.plan import FileRef, Plan, PlannedOutput, PlannedTask, Ref
from graph_runtime.registry import NodeType, Registry
from graph_runtime.validate import Diagnostic, validate

UuidFactory = Callable[[], str]


class CompileError(Exception):
    """The workflow has errors; nothing was compiled."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        n = len(diagnostics)
        lines = [f"the workflow has {n} error{'s' if n != 1 else ''}:"] + [f"  - {d}" for d in diagnostics]
        super().__init__("\n".join(lines))


@dataclass
class _Build:
    """State shared by the node contexts of one compilation."""

    base_dir: Path
    new_uuid: UuidFactory
    plan: Plan = field(default_factory=Plan)
    uploads: dict[str, Ref] = field(default_factory=dict)  # real path -> the one imageUpload task's result


class NodeCompileContext:
    """What a node type's compile function sees: its parameters, its inputs, and ways to add work."""

    def __init__(
        self, build: _Build, node_id: str, node: Node, node_type: NodeType, inputs: dict[str, list[Any]]
    ) -> None:
        self._build = build
        self.node_id = node_id
        self.node = node
        self.node_type = node_type
        self._inputs = inputs

    @property
    def title(self) -> str:
        return self.node.title or self.node_type.title

    def param(self, name: str, default: Any = None) -> Any:
        """The value a person set, else `default` (not the API's default: unset means leave it out)."""
        return self.node.params.get(name, default)

    def effective(self, name: str) -> Any:
        """The value that will apply: the one set, else the declared API default."""
        declared = self.node_type.param(name)
        return self.node.params.get(name, declared.default if declared else None)

    def api_params(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Set parameters that go into the task, in declaration order (or in the order of `names`)."""
        order = names if names is not None else [p.name for p in self.node_type.params]
        out: dict[str, Any] = {}
        for name in order:
            declared = self.node_type.param(name)
            if declared is not None and declared.api and name in self.node.params:
                out[name] = self.node.params[name]
        return out

    def input(self, name: str) -> Any:
        """The value on a single input, or None when nothing is connected."""
        values = self._inputs.get(name, [])
        return values[0] if values else None

    def inputs(self, name: str) -> list[Any]:
        """The values on a list input, in link order."""
        return list(self._inputs.get(name, []))

    def add_task(self, task_type: str, fields: dict[str, Any]) -> str:
        """Add an API task and return its taskUUID."""
        task_uuid = self._build.new_uuid()
        payload = {"taskType": task_type, "taskUUID": task_uuid, **fields}
        self._build.plan.tasks.append(PlannedTask(task_uuid, self.node_id, payload))
        return task_uuid

    def upload(self, path: str) -> Ref:
        """An image reference for a local file; a file used several times is uploaded once."""
        real = os.path.realpath(self._build.base_dir / Path(path).expanduser())
        if real not in self._build.uploads:
            task_uuid = self.add_task("imageUpload", {"image": FileRef(real)})
            self._build.uploads[real] = Ref(task_uuid, "imageUUID")
        return self._build.uploads[real]

    def add_output(self, kind: str, image: Any, options: dict[str, Any]) -> None:
        self._build.plan.outputs.append(PlannedOutput(self.node_id, kind, image, options))


def build_graph(workflow: Workflow) -> nx.DiGraph:
    """The workflow's dependency graph: an edge from each node to every node one of its outputs feeds."""
    graph = nx.DiGraph()
    graph.add_nodes_from(workflow.nodes)
    nodes = workflow.nodes
    graph.add_edges_from(
        (link.from_.node, link.to.node) for link in workflow.links if link.from_.node in nodes and link.to.node in nodes
    )
    return graph


def needed_nodes(workflow: Workflow, registry: Registry, graph: nx.DiGraph | None = None) -> set[str]:
    """Output nodes and everything upstream of them: the part of the graph a run executes."""
    graph = graph if graph is not None else build_graph(workflow)
    roots = [nid for nid, n in workflow.nodes.items() if (nt := registry.get(n.type)) is not None and nt.is_output]
    needed: set[str] = set()
    stack = list(roots)
    while stack:  # reverse reachability, iterative and linear
        nid = stack.pop()
        if nid not in needed:
            needed.add(nid)
            stack.extend(graph.predecessors(nid))
    return needed


def compile_workflow(
    workflow: Workflow,
    registry: Registry | None = None,
    *,
    base_dir: str | os.PathLike[str] = ".",
    new_uuid: UuidFactory | None = None,
    check: bool = True,
) -> Plan:
    """Validate, then compile. Raises CompileError listing every error if the workflow is not runnable."""
    if registry is None:
        from nodes import REGISTRY as registry
    if check:
        errors = [d for d in validate(workflow, registry, base_dir=base_dir) if d.severity == "error"]
        if errors:
            raise CompileError(errors)

    build = _Build(Path(base_dir), new_uuid or (lambda: str(uuid.uuid4())))
    graph = build_graph(workflow)
    needed = needed_nodes(workflow, registry, graph)

    incoming: dict[str, list[Link]] = defaultdict(list)
    for link in workflow.links:
        incoming[link.to.node].append(link)

    values: dict[tuple[str, str], Any] = {}
    # Sorting the whole graph and filtering is linear; sorting a subgraph view is not.
    for node_id in (n for n in nx.topological_sort(graph) if n in needed):
        node = workflow.nodes[node_id]
        node_type = registry[node.type]
        inputs: dict[str, list[Any]] = defaultdict(list)
        for link in incoming[node_id]:
            inputs[link.to.input].append(values[(link.from_.node, link.from_.output)])
        outputs = node_type.compile(NodeCompileContext(build, node_id, node, node_type, inputs))
        for name, value in outputs.items():
            values[(node_id, name)] = value
    return build.plan
