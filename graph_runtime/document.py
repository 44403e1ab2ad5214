"""The workflow file (format v1): pydantic models, loading with one clear message per problem, atomic saves.

Parameter values are stored by name, links are objects naming both ends, and keys keep a stable order with one
value per line so files diff well. `dumps(load(text)) == text` for every file Loomware wrote.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from graph_runtime.atomic import write_text_atomic
from graph_runtime.migrations import CURRENT_VERSION, Migration, migrate
from graph_runtime.problems import Problem, WorkflowLoadError

NodeId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)


class Metadata(_Model):
    name: str = "Untitled"
    description: str = ""
    created: datetime | None = None
    modified: datetime | None = None


class Node(_Model):
    type: str
    version: int = Field(default=1, ge=1)
    title: str | None = None
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    collapsed: bool | None = None
    position: tuple[float, float] = (0.0, 0.0)
    params: dict[str, JsonValue] = Field(default_factory=dict)


class LinkFrom(_Model):
    node: NodeId
    output: str


class LinkTo(_Model):
    node: NodeId
    input: str


class Link(_Model):
    id: str
    from_: LinkFrom = Field(alias="from")
    to: LinkTo


class Group(_Model):
    """A titled frame; the nodes inside its rectangle move with it."""

    id: str
    title: str = ""
    rect: tuple[float, float, float, float]  # x, y, width, height in scene units
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")


class Note(_Model):
    id: str
    text: str = ""
    position: tuple[float, float] = (0.0, 0.0)
    width: float | None = None


class Workflow(_Model):
    schema_version: int = CURRENT_VERSION
    metadata: Metadata = Field(default_factory=Metadata)
    nodes: dict[NodeId, Node] = Field(default_factory=dict)
    links: list[Link] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)

    def links_into(self, node_id: str, input_name: str | None = None) -> Iterator[Link]:
        for link in self.links:
            if link.to.node == node_id and (input_name is None or link.to.input == input_name):
                yield link

    def new_id(self, prefix: str) -> str:
        """A node, link, group or note id not used yet: prefix, prefix_2, prefix_3, ..."""
        taken = {
            *self.nodes,
            *(x.id for x in self.links),
            *(g.id for g in self.groups),
            *(n.id for n in self.notes),
        }
        if prefix not in taken:
            return prefix
        i = 2
        while f"{prefix}_{i}" in taken:
            i += 1
        return f"{prefix}_{i}"

    def touch(self) -> None:
        """Stamp the modification time (and the creation time of a new workflow); called on save by people."""
        now = datetime.now(UTC).replace(microsecond=0)
        self.metadata.created = self.metadata.created or now
        self.metadata.modified = now


# ---------------------------------------------------------------------------------------------- serialise


def to_data(workflow: Workflow) -> dict[str, Any]:
    return workflow.model_dump(mode="json", by_alias=True, exclude_none=True)


def dumps(workflow: Workflow) -> str:
    """The canonical text of a workflow: stable key order, two-space indent, one value per line (short
    number pairs such as positions stay on one line), a final newline."""
    return dumps_data(to_data(workflow))


def dumps_data(data: dict[str, Any]) -> str:
    """The canonical text of workflow data already turned into JSON types (see `to_data`)."""
    return _format(data, "") + "\n"


def _format(value: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_format(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and value:
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return "[" + ", ".join(json.dumps(v) for v in value) + "]"
        return "[\n" + ",\n".join(f"{inner}{_format(v, inner)}" for v in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False)


def save(workflow: Workflow, path: str | os.PathLike[str]) -> Path:
    """Write atomically: a crash mid-save leaves the previous file intact."""
    return write_text_atomic(path, dumps(workflow))


# ---------------------------------------------------------------------------------------------- load


class _Pairs(dict[str, Any]):
    """A JSON object that remembers keys given twice (json.loads would silently keep the last one)."""

    duplicates: list[str]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> _Pairs:
    obj = _Pairs()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def _duplicate_key_problems(data: Any, where: tuple[str | int, ...] = ()) -> Iterator[Problem]:
    if isinstance(data, _Pairs):
        for key in data.duplicates:
            if where == ("nodes",):
                yield Problem(f"node id {key!r} is used by more than one node", node_id=key, code="duplicate_id")
            else:
                yield Problem(f"key {key!r} appears twice in {_loc_text(where) or 'the top level'}")
        for key, value in data.items():
            yield from _duplicate_key_problems(value, (*where, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _duplicate_key_problems(value, (*where, i))


def _loc_text(loc: tuple[str | int, ...]) -> str:
    return "".join(f"[{x}]" if isinstance(x, int) else (f".{x}" if i else str(x)) for i, x in enumerate(loc))


def _problem_from_pydantic(err: Any, data: Any) -> Problem:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif "input" in err and err["type"] not in {"missing"}:
        msg = f"{msg} (got {json.dumps(err['input'], default=str)[:60]})"
    if len(loc) >= 2 and loc[0] == "nodes":
        node_id = str(loc[1])
        if loc[2:] == ("[key]",):
            msg = "a node id may use only letters, digits, _ and - (1 to 64 characters)"
            return Problem(msg, node_id=node_id, field="id", code="invalid_id")
        return Problem(msg, node_id=node_id, field=_loc_text(loc[2:]) or None, code=err["type"])
    if len(loc) >= 2 and loc[0] == "links" and isinstance(loc[1], int):
        link = data["links"][loc[1]] if isinstance(data.get("links"), list) else None
        link_id = link.get("id") if isinstance(link, dict) else None
        label = f"links[{loc[1]}]" + (f" (id {link_id!r})" if link_id else "")
        rest = _loc_text(loc[2:])
        return Problem(msg, field=f"{label}{'.' + rest if rest else ''}", code=err["type"])
    return Problem(msg, field=_loc_text(loc) or None, code=err["type"])


def loads(
    text: str | bytes,
    registry: Any | None = None,
    *,
    migrations: list[Migration] | None = None,
) -> Workflow:
    """Parse, migrate and check a workflow. Raises WorkflowLoadError listing every problem found."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WorkflowLoadError([Problem(f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    try:
        data = json.loads(text, object_pairs_hook=_pairs_hook)
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise WorkflowLoadError([Problem(msg, code="invalid_json")]) from None
    if not isinstance(data, dict):
        raise WorkflowLoadError([Problem("a workflow file holds a JSON object at the top level")])

    problems = list(_duplicate_key_problems(data))
    data = migrate(data, migrations)  # raises WorkflowLoadError for files from a newer Loomware
    if registry is None:
        from nodes import REGISTRY as registry  # the standard node library
    from graph_runtime.structure import structural_problems

    try:
        workflow = Workflow.model_validate(data)
    except ValidationError as exc:
        problems += [_problem_from_pydantic(e, data) for e in exc.errors()]
        # Report what else is wrong too (unknown types, broken links), from the parts that did parse.
        partial, unparsed = _salvage(data)
        for problem in structural_problems(partial, registry):
            if problem.fatal and not any(f"{node_id!r}" in problem.message for node_id in unparsed):
                problems.append(problem)
        raise WorkflowLoadError(problems) from None

    problems += [p for p in structural_problems(workflow, registry) if p.fatal]
    if problems:
        raise WorkflowLoadError(problems)
    return workflow


def _salvage(data: dict[str, Any]) -> tuple[Workflow, set[str]]:
    """The nodes and links of a malformed file that parse on their own, and the ids of nodes that do not."""
    nodes: dict[str, Node] = {}
    unparsed: set[str] = set()
    raw_nodes = data.get("nodes") if isinstance(data.get("nodes"), dict) else {}
    for node_id, raw in raw_nodes.items():
        try:
            nodes[node_id] = Node.model_validate(raw)
        except ValidationError:
            unparsed.add(node_id)
    links = []
    for raw in data.get("links") if isinstance(data.get("links"), list) else []:
        try:
            links.append(Link.model_validate(raw))
        except ValidationError:
            continue
    return Workflow.model_construct(nodes=nodes, links=links), unparsed


def load(path: str | os.PathLike[str], registry: Any | None = None) -> Workflow:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise WorkflowLoadError([Problem(f"cannot read {path}: {exc.strerror}")]) from None
    try:
        return loads(raw, registry)
    except WorkflowLoadError as exc:
        exc.source = str(path)
        raise
