"""The node catalogue as text and as data, for `loomware nodes` and the README's table."""

from __future__ import annotations

from typing import Any

from graph_runtime.registry import NodeType, Registry


def _node_data(nt: NodeType) -> dict[str, Any]:
    return {
        "id": nt.id,
        "title": nt.title,
        "category": nt.category,
        "version": nt.version,
        "description": nt.description,
        "inputs": [{"name": p.name, "type": str(p.type), "required": p.required, "many": p.many} for p in nt.inputs],
        "outputs": [{"name": p.name, "type": str(p.type)} for p in nt.outputs],
        "params": [
            {
                "name": p.name,
                "kind": str(p.kind),
                "required": p.required,
                "default": p.default,
                "allowed": p.range_text,
                "sentToApi": p.api,
                "help": p.help,
            }
            for p in nt.params
        ],
    }


def catalogue_data(registry: Registry) -> list[dict[str, Any]]:
    return [_node_data(nt) for nt in registry]


def catalogue_text(registry: Registry) -> str:
    lines: list[str] = []
    for nt in registry:
        lines.append(f"{nt.id}  ({nt.title}, {nt.category})")
        lines.append(f"    {nt.description}")
        for p in nt.inputs:
            flags = ", ".join(f for f, on in (("required", p.required), ("list", p.many)) if on)
            lines.append(f"    in   {p.name}: {p.type}" + (f"  [{flags}]" if flags else ""))
        for p in nt.outputs:
            lines.append(f"    out  {p.name}: {p.type}")
        for p in nt.params:
            bits = [str(p.kind)]
            if p.required:
                bits.append("required")
            if p.range_text:
                bits.append(p.range_text)
            if p.default is not None:
                bits.append(f"default {p.default}")
            if not p.api:
                bits.append("not sent to the API")
            lines.append(f"    set  {p.name}: {'; '.join(bits)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
