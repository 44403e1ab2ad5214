"""Workflow format versions and the ordered list of migrations that bring old files up to date.

Each migration is a small pure function from the raw JSON data of version N to version N + 1, applied before
validation, so the pydantic models only ever describe the current format. Never edit a released migration:
add the next one and bump CURRENT_VERSION.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph_runtime.problems import Problem, WorkflowLoadError

CURRENT_VERSION = 1


@dataclass(frozen=True)
class Migration:
    from_version: int
    describe: str
    apply: Callable[[dict[str, Any]], dict[str, Any]]


#: Released migrations, oldest first; MIGRATIONS[i] turns version i + 1 into i + 2. Format 1 is the first.
MIGRATIONS: list[Migration] = []


def migrate(data: dict[str, Any], migrations: list[Migration] | None = None) -> dict[str, Any]:
    chain = MIGRATIONS if migrations is None else migrations
    current = 1 + len(chain)
    version = data.get("schema_version")
    if version is None:
        raise WorkflowLoadError([Problem("required field is missing", field="schema_version")])
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise WorkflowLoadError([Problem(f"must be a positive whole number, got {version!r}", field="schema_version")])
    if version > current:
        raise WorkflowLoadError(
            [
                Problem(
                    f"this file is format {version}, written by a newer Loomware; this version reads formats up to "
                    f"{current}. Update Loomware to open it.",
                    field="schema_version",
                    code="newer_version",
                )
            ]
        )
    for step in chain[version - 1 :]:
        data = step.apply(dict(data))
        data["schema_version"] = step.from_version + 1
    return data
