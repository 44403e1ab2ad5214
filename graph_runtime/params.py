"""Parameter declarations: the one place a node parameter's type, range, default and allowed values live.

A `Param` drives everything that touches the parameter: validation, the editor's widgets, the JSON Schema
and the `loomware nodes` table. Nothing else states a range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graph_runtime.api_facts import is_air


class Kind(StrEnum):
    INT = "int"
    FLOAT = "float"
    STRING = "string"  # one line
    TEXT = "text"  # multi-line prose (prompts)
    BOOL = "bool"
    ENUM = "enum"
    AIR = "air"  # a model identifier, source:id@version
    PATH = "path"  # a local file
    SEED = "seed"  # an integer the run may pick at random


@dataclass(frozen=True)
class Issue:
    """One thing wrong with a value: a stable code and a sentence for a person."""

    code: str
    message: str


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    help: str = ""
    default: Any = None  # the API's default (shown, not sent); None: the API has none or picks one
    required: bool = False  # the API requires it; a new node gets `initial` filled in
    initial: Any = None  # value put on a newly created node (e.g. width 1024)
    minimum: float | None = None
    maximum: float | None = None
    multiple_of: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    # Compile leaves it out of the task when False (editor-only settings such as the seed's after-run mode).
    api: bool = True
    # A param that may hold one of two forms of one bound (startStep / startStepPercentage) names its partner.
    exclusive_with: str | None = None

    def __post_init__(self) -> None:
        for value, what in ((self.default, "default"), (self.initial, "initial")):
            if value is not None and (issues := self.check(value)):
                raise ValueError(f"param {self.name!r}: {what} {value!r} is invalid: {issues[0].message}")
        if self.kind is Kind.ENUM and not self.choices:
            raise ValueError(f"param {self.name!r}: an enum needs choices")

    @property
    def range_text(self) -> str:
        """The allowed values as a person reads them: '128..2048, multiple of 64', 'one of: a, b'."""
        if self.choices:
            return "one of: " + ", ".join(self.choices)
        parts: list[str] = []
        if self.minimum is not None or self.maximum is not None:
            lo = _num(self.minimum) if self.minimum is not None else "-inf"
            hi = _num(self.maximum) if self.maximum is not None else "inf"
            parts.append(f"{lo}..{hi}")
        if self.multiple_of:
            parts.append(f"multiple of {self.multiple_of}")
        if self.min_length is not None or self.max_length is not None:
            parts.append(f"{self.min_length or 0}..{self.max_length or 'any'} characters")
        return ", ".join(parts)

    def check(self, value: Any) -> list[Issue]:
        """Every problem with `value` alone (cross-field rules live in the node's check function)."""
        checker = _CHECKERS[self.kind]
        if (issue := checker(self, value)) is not None:
            return [issue]
        issues: list[Issue] = []
        if isinstance(value, int | float) and not isinstance(value, bool):
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                issues.append(Issue("value_out_of_range", f"{value!r} is outside {self.range_text}"))
            elif self.multiple_of and value % self.multiple_of:
                issues.append(Issue("not_multiple_of", f"{value!r} is not a multiple of {self.multiple_of}"))
        if isinstance(value, str):
            n = len(value)
            if (self.min_length is not None and n < self.min_length) or (
                self.max_length is not None and n > self.max_length
            ):
                issues.append(Issue("length_out_of_range", f"{n} characters; allowed {self.range_text}"))
        return issues

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": _JSON_TYPES[self.kind]}
        if self.help:
            schema["description"] = self.help
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.multiple_of:
            schema["multipleOf"] = self.multiple_of
        if self.min_length is not None:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.default is not None:
            schema["default"] = self.default
        return schema


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(p: Param, v: Any) -> Issue | None:
    return None if _is_int(v) else Issue("invalid_type", f"expected a whole number, got {v!r}")


def _check_float(p: Param, v: Any) -> Issue | None:
    ok = isinstance(v, int | float) and not isinstance(v, bool)
    return None if ok else Issue("invalid_type", f"expected a number, got {v!r}")


def _check_str(p: Param, v: Any) -> Issue | None:
    return None if isinstance(v, str) else Issue("invalid_type", f"expected text, got {v!r}")


def _check_bool(p: Param, v: Any) -> Issue | None:
    return None if isinstance(v, bool) else Issue("invalid_type", f"expected true or false, got {v!r}")


def _check_enum(p: Param, v: Any) -> Issue | None:
    if v in p.choices:
        return None
    return Issue("value_not_in_list", f"{v!r} is not allowed; {p.range_text}")


def _check_air(p: Param, v: Any) -> Issue | None:
    if not isinstance(v, str):
        return Issue("invalid_type", f"expected a model identifier, got {v!r}")
    if not is_air(v):
        return Issue("invalid_air", f"{v!r} is not an AIR id (expected source:id@version, e.g. runware:101@1)")
    return None


_CHECKERS: dict[Kind, Callable[[Param, Any], Issue | None]] = {
    Kind.INT: _check_int,
    Kind.SEED: _check_int,
    Kind.FLOAT: _check_float,
    Kind.STRING: _check_str,
    Kind.TEXT: _check_str,
    Kind.PATH: _check_str,
    Kind.BOOL: _check_bool,
    Kind.ENUM: _check_enum,
    Kind.AIR: _check_air,
}

_JSON_TYPES = {
    Kind.INT: "integer",
    Kind.SEED: "integer",
    Kind.FLOAT: "number",
    Kind.STRING: "string",
    Kind.TEXT: "string",
    Kind.PATH: "string",
    Kind.BOOL: "boolean",
    Kind.ENUM: "string",
    Kind.AIR: "string",
}
