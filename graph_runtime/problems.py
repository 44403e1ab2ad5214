"""Problems found while loading a workflow file: one clear message each, naming the node and field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    message: str
    node_id: str | None = None
    field: str | None = None
    code: str = "invalid_file"
    # False for problems the editor can still show and let a person fix (an unknown parameter name, say).
    fatal: bool = True

    def __str__(self) -> str:
        where = []
        if self.node_id is not None:
            where.append(f"node {self.node_id!r}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class WorkflowLoadError(Exception):
    """A workflow file that cannot be loaded, with every problem found (not just the first)."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        super().__init__(self.__str__())

    def __str__(self) -> str:
        head = f"{self.source}: " if self.source else ""
        n = len(self.problems)
        lines = [f"{head}cannot load the workflow ({n} problem{'s' if n != 1 else ''}):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)
