"""Prompt: a piece of text, wired into an inference's positive or negative prompt."""

from __future__ import annotations

from typing import Any

from graph_runtime.api_facts import BLANK_PROMPT
from graph_runtime.compile import NodeCompileContext
from graph_runtime.params import Kind, Param
from graph_runtime.registry import NodeType, OutputPort, PortType


def _compile(ctx: NodeCompileContext) -> dict[str, Any]:
    return {"text": ctx.param("text")}


PROMPT = NodeType(
    id="prompt",
    title="Prompt",
    category="Conditioning",
    description="Text that guides generation: wire it to a positive prompt (what to see) or a negative one "
    "(what to avoid).",
    params=(
        Param(
            "text",
            Kind.TEXT,
            required=True,
            min_length=2,
            max_length=3000,
            help="What the image should show (or avoid, as a negative prompt). 2-3000 characters; "
            f"{BLANK_PROMPT} generates with no prompt guidance.",
        ),
    ),
    outputs=(OutputPort("text", PortType.TEXT),),
    summary=("text",),
    compile=_compile,
)

NODE_TYPES = (PROMPT,)
