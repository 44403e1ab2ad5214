"""Build workflows in Python: for scripts, tests, benchmarks and the example files."""

from __future__ import annotations

from typing import Any

from graph_runtime.document import Link, LinkFrom, LinkTo, Metadata, Node, Workflow


class WorkflowBuilder:
    """A fluent way to put nodes and links together; `build()` returns the Workflow document."""

    def __init__(self, name: str = "Untitled", description: str = "") -> None:
        self.workflow = Workflow(metadata=Metadata(name=name, description=description))

    def node(self, node_id: str, type_: str, x: float = 0, y: float = 0, **params: Any) -> str:
        if node_id in self.workflow.nodes:
            raise ValueError(f"node id {node_id!r} is already used")
        self.workflow.nodes[node_id] = Node(type=type_, position=(x, y), params=params)
        return node_id

    def link(self, src: str, output: str, dst: str, input_: str) -> str:
        link_id = self.workflow.new_id(f"{src}-{dst}")
        self.workflow.links.append(
            Link(id=link_id, from_=LinkFrom(node=src, output=output), to=LinkTo(node=dst, input=input_))
        )
        return link_id

    def build(self) -> Workflow:
        return self.workflow
