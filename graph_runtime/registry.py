"""Node-type declarations and the registry that checks them when they register.

A node type is data: id, title, category, version, typed input and output ports, parameters, and two
functions: `compile` (inputs and parameters -> API tasks and output values) and an optional `check`
(rules that span several fields or nodes). A bad declaration fails at import, never in a person's run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from graph_runtime.params import Param

if TYPE_CHECKING:
    from graph_runtime.compile import NodeCompileContext
    from graph_runtime.validate import NodeCheckContext


class PortType(StrEnum):
    TEXT = "TEXT"
    MODEL = "MODEL"
    VAE = "VAE"
    LORA = "LORA"
    EMBEDDING = "EMBEDDING"
    IMAGE = "IMAGE"
    CONTROLNET = "CONTROLNET"
    REFINER = "REFINER"


#: Colours per port type, shared by the editor and the documentation (one source of truth).
PORT_COLORS: dict[PortType, str] = {
    PortType.TEXT: "#e0b84c",
    PortType.MODEL: "#b07cd8",
    PortType.VAE: "#e0605e",
    PortType.LORA: "#5fb0e0",
    PortType.EMBEDDING: "#5fd0b0",
    PortType.IMAGE: "#68c060",
    PortType.CONTROLNET: "#e08a3c",
    PortType.REFINER: "#8c9be8",
}


@dataclass(frozen=True)
class InputPort:
    name: str
    type: PortType
    help: str = ""
    required: bool = True
    many: bool = False  # a list port: accepts many links, in the order of the workflow's links


@dataclass(frozen=True)
class OutputPort:
    name: str
    type: PortType
    help: str = ""


CompileFn = Callable[["NodeCompileContext"], dict[str, Any]]
CheckFn = Callable[["NodeCheckContext"], None]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class NodeType:
    id: str
    title: str
    category: str
    description: str
    compile: CompileFn
    version: int = 1
    inputs: tuple[InputPort, ...] = ()
    outputs: tuple[OutputPort, ...] = ()
    params: tuple[Param, ...] = ()
    check: CheckFn | None = None
    # Output nodes (save, preview) are the roots compilation starts from: only what leads to one is compiled.
    is_output: bool = False
    # Parameter names the canvas shows on the node's face.
    summary: tuple[str, ...] = ()
    _params_by_name: dict[str, Param] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_params_by_name", {p.name: p for p in self.params})

    def param(self, name: str) -> Param | None:
        return self._params_by_name.get(name)

    def input(self, name: str) -> InputPort | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> OutputPort | None:
        return next((p for p in self.outputs if p.name == name), None)

    def initial_params(self) -> dict[str, Any]:
        """Parameter values a newly created node starts with (only those the API requires)."""
        return {p.name: p.initial for p in self.params if p.initial is not None}


class RegistrationError(ValueError):
    pass


class Registry:
    """All node types by id. Registration checks each declaration so mistakes surface at import."""

    def __init__(self) -> None:
        self._types: dict[str, NodeType] = {}

    def register(self, node_type: NodeType) -> NodeType:
        for problem in _declaration_problems(node_type):
            raise RegistrationError(f"node type {node_type.id!r}: {problem}")
        if node_type.id in self._types:
            raise RegistrationError(f"node type {node_type.id!r} is registered twice")
        self._types[node_type.id] = node_type
        return node_type

    def register_all(self, node_types: Iterable[NodeType]) -> None:
        for node_type in node_types:
            self.register(node_type)

    def get(self, type_id: str) -> NodeType | None:
        return self._types.get(type_id)

    def __getitem__(self, type_id: str) -> NodeType:
        return self._types[type_id]

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._types

    def __iter__(self) -> Iterator[NodeType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def ids(self) -> list[str]:
        return list(self._types)


def _declaration_problems(nt: NodeType) -> Iterator[str]:
    if not _NAME.match(nt.id):
        yield "id must be lower_snake_case"
    if not nt.title or not nt.category:
        yield "title and category are required"
    if nt.version < 1:
        yield "version must be >= 1"
    for kind, names in (
        ("input", [p.name for p in nt.inputs]),
        ("output", [p.name for p in nt.outputs]),
        ("param", [p.name for p in nt.params]),
    ):
        pattern = _PARAM_NAME if kind == "param" else _NAME
        for name in names:
            if not pattern.match(name):
                yield f"{kind} name {name!r} is not a valid identifier"
        if len(set(names)) != len(names):
            yield f"duplicate {kind} names in {names}"
    clash = {p.name for p in nt.inputs} & {p.name for p in nt.params}
    if clash:
        yield f"names used both as input and parameter: {sorted(clash)}"
    for port in (*nt.inputs, *nt.outputs):
        if not isinstance(port.type, PortType):
            yield f"port {port.name!r} has unknown type {port.type!r}"
    for p in nt.params:
        if p.exclusive_with is not None and nt.param(p.exclusive_with) is None:
            yield f"param {p.name!r} is exclusive with unknown param {p.exclusive_with!r}"
    for name in nt.summary:
        if nt.param(name) is None:
            yield f"summary names unknown param {name!r}"
    if nt.is_output and nt.outputs:
        yield "output nodes have no output ports"
