"""The execution plan: API tasks in dependency order, the references between them, and the outputs.

A value that only exists once an earlier task has run (a preprocess result's guideImageUUID, an inference's
imageUUID) is a `Ref`; a local file that must be uploaded is a `FileRef`. Serialised, both become placeholders
in the exact JSON array the API takes: ``{{<taskUUID>.<field>}}`` and ``{{file:<path>}}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Ref:
    """A field of the result of an earlier task. When that task returns several items (numberResults > 1)
    the executor runs the dependent task once per item (fan-out)."""

    task_uuid: str
    field: str

    @property
    def placeholder(self) -> str:
        return "{{" + f"{self.task_uuid}.{self.field}" + "}}"


@dataclass(frozen=True)
class FileRef:
    """A local file, uploaded once per run (and once per content hash across runs) before it is used."""

    path: str

    @property
    def placeholder(self) -> str:
        return "{{file:" + self.path + "}}"


_PLACEHOLDER = re.compile(r"^\{\{(?:file:(?P<path>.+)|(?P<task>[0-9a-fA-F-]{36})\.(?P<field>\w+))\}\}$")


def parse_placeholder(text: str) -> Ref | FileRef | None:
    match = _PLACEHOLDER.match(text)
    if match is None:
        return None
    if match["path"] is not None:
        return FileRef(match["path"])
    return Ref(match["task"], match["field"])


def map_values(value: Any, fn: Callable[[Ref | FileRef], Any]) -> Any:
    """A copy of a JSON-like value with every Ref and FileRef replaced by fn(ref)."""
    if isinstance(value, Ref | FileRef):
        return fn(value)
    if isinstance(value, dict):
        return {k: map_values(v, fn) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_values(v, fn) for v in value]
    return value


def iter_refs(value: Any) -> Iterator[Ref | FileRef]:
    if isinstance(value, Ref | FileRef):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_refs(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from iter_refs(v)


@dataclass
class PlannedTask:
    uuid: str
    node_id: str  # the graph node this task came from, for error messages and events
    payload: JsonDict  # the API task, with Ref / FileRef where values come from elsewhere

    @property
    def task_type(self) -> str:
        return str(self.payload["taskType"])

    @property
    def deps(self) -> list[str]:
        """Task UUIDs this task waits for, in first-use order."""
        return list(dict.fromkeys(r.task_uuid for r in iter_refs(self.payload) if isinstance(r, Ref)))

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(r.path for r in iter_refs(self.payload) if isinstance(r, FileRef)))

    def to_api(self) -> JsonDict:
        return map_values(self.payload, lambda r: r.placeholder)


@dataclass
class PlannedOutput:
    """A Save Image or Preview Image node: what it receives and how it writes it."""

    node_id: str
    kind: str  # "save" or "preview"
    image: Ref | str  # a result reference (or a literal UUID/URL when the graph saves an input image)
    options: JsonDict = field(default_factory=dict)

    def to_dict(self) -> JsonDict:
        image = self.image.placeholder if isinstance(self.image, Ref) else self.image
        return {"node": self.node_id, "kind": self.kind, "image": image, **self.options}


@dataclass
class Plan:
    tasks: list[PlannedTask] = field(default_factory=list)  # dependency order
    outputs: list[PlannedOutput] = field(default_factory=list)

    def to_api(self) -> list[JsonDict]:
        """The exact JSON array the API takes, placeholders where a value comes from an earlier task."""
        return [t.to_api() for t in self.tasks]

    def to_dict(self) -> JsonDict:
        """The whole plan: tasks with the node each came from and what it waits for, and the outputs."""
        return {
            "tasks": [{"node": t.node_id, "dependsOn": t.deps, "task": t.to_api()} for t in self.tasks],
            "outputs": [o.to_dict() for o in self.outputs],
        }
