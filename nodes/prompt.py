"""Prompt: a piece of text, wired into an inference's positive or negative prompt."""

from __future__ import annotations

from typing import Any

from graph_runtime.api_params import POSITIVE_PROMPT, derive
from graph_runtime.compile import NodeCompileContext
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
        derive(
            POSITIVE_PROMPT,
            name="text",
            help=POSITIVE_PROMPT.help.replace(
                "What the image should show", "What the image should show (or avoid, as a negative prompt)"
            ),
        ),
    ),
    outputs=(OutputPort("text", PortType.TEXT),),
    summary=("text",),
    compile=_compile,
)

NODE_TYPES = (PROMPT,)
