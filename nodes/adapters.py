"""LoRA and Embedding: adapters stacked onto an inference through its list inputs, each with a weight."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graph_runtime.api_params import ADAPTER_WEIGHT, derive
from graph_runtime.compile import NodeCompileContext
from graph_runtime.params import Param
from graph_runtime.registry import NodeType, OutputPort, PortType
from nodes.models import air_param


def _adapter(output: str) -> Callable[[NodeCompileContext], dict[str, Any]]:
    def compile_adapter(ctx: NodeCompileContext) -> dict[str, Any]:
        return {output: ctx.api_params()}

    return compile_adapter


def _weight(what: str) -> Param:
    return derive(ADAPTER_WEIGHT, help=ADAPTER_WEIGHT.help.replace("Strength", f"Strength of the {what}"))


LORA = NodeType(
    id="lora",
    title="LoRA",
    category="Models",
    description="A low-rank adaptation that adds a style or subject to the base model. Wire several into an "
    "inference's LoRA list; the order is kept.",
    params=(air_param("AIR id of the LoRA, e.g. civitai:132942@146296."), _weight("LoRA")),
    outputs=(OutputPort("lora", PortType.LORA),),
    summary=("model", "weight"),
    compile=_adapter("lora"),
)

EMBEDDING = NodeType(
    id="embedding",
    title="Embedding",
    category="Models",
    description="A textual inversion: a learned token for a concept. A negative weight suppresses the concept "
    "(e.g. a 'bad hands' embedding).",
    params=(air_param("AIR id of the embedding (textual inversion)."), _weight("embedding")),
    outputs=(OutputPort("embedding", PortType.EMBEDDING),),
    summary=("model", "weight"),
    compile=_adapter("embedding"),
)

NODE_TYPES = (LORA, EMBEDDING)
