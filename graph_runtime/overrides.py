"""`--set NODE.FIELD=VALUE`: change a parameter for one run without editing the file."""

from __future__ import annotations

import json
from typing import Any

from graph_runtime.document import Workflow
from graph_runtime.registry import Registry


class OverrideError(ValueError):
    pass


def parse_value(text: str) -> Any:
    """JSON when it parses (numbers, true/false, null, quoted strings), else the text as it is."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def apply_overrides(workflow: Workflow, assignments: list[str], registry: Registry) -> Workflow:
    """A copy of `workflow` with each NODE.FIELD=VALUE applied; `null` unsets a parameter."""
    result = workflow.model_copy(deep=True)
    for assignment in assignments:
        target, sep, raw = assignment.partition("=")
        node_id, dot, field = target.strip().partition(".")
        if not sep or not dot or not node_id or not field:
            raise OverrideError(f"--set {assignment!r}: expected NODE.FIELD=VALUE, e.g. infer.steps=30")
        node = result.nodes.get(node_id)
        if node is None:
            raise OverrideError(f"--set {assignment!r}: no node {node_id!r}; nodes: {', '.join(result.nodes)}")
        node_type = registry[node.type]
        if node_type.param(field) is None:
            names = ", ".join(p.name for p in node_type.params) or "none"
            raise OverrideError(
                f"--set {assignment!r}: node {node_id!r} ({node.type}) has no parameter "
                f"{field!r}; its parameters: {names}"
            )
        value = parse_value(raw)
        params = dict(node.params)
        if value is None:
            params.pop(field, None)
        else:
            params[field] = value
        node.params = params
    return result
