"""The JSON Schema of workflow files, with each node type's parameters spelled out from its declaration."""

from __future__ import annotations

from typing import Any

from graph_runtime.document import Workflow
from graph_runtime.registry import Registry


def workflow_schema(registry: Registry) -> dict[str, Any]:
    schema = Workflow.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Loomware workflow"
    node_def = schema["$defs"]["Node"]
    variants = []
    for nt in registry:
        variants.append(
            {
                "title": nt.title,
                "description": nt.description,
                "properties": {
                    "type": {"const": nt.id},
                    "params": {
                        "type": "object",
                        "properties": {p.name: p.json_schema() for p in nt.params},
                        "additionalProperties": False,
                    },
                },
            }
        )
    node_def["properties"]["type"]["enum"] = registry.ids()
    node_def["oneOf"] = variants
    return schema
