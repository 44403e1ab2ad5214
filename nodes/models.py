"""Model and VAE: which checkpoint generates, and which decoder turns its latents into pixels."""

from __future__ import annotations

from typing import Any

from graph_runtime import api_params as api
from graph_runtime.api_facts import ARCHITECTURES
from graph_runtime.compile import NodeCompileContext
from graph_runtime.params import Kind, Param
from graph_runtime.registry import NodeType, OutputPort, PortType


def air_param(help_text: str) -> Param:
    return api.derive(api.MODEL, help=help_text)


def _compile_model(ctx: NodeCompileContext) -> dict[str, Any]:
    # The architecture never reaches the API; validation and the local engine use it.
    return {"model": {"air": ctx.param("model"), "architecture": ctx.param("architecture")}}


MODEL = NodeType(
    id="model",
    title="Model",
    category="Models",
    description="The base model that generates the image, by AIR id (e.g. runware:101@1 for FLUX.1 Dev).",
    params=(
        air_param("AIR id of the base model (source:id@version), as found in the Model Explorer."),
        Param(
            "architecture",
            Kind.ENUM,
            choices=tuple(ARCHITECTURES),
            help="The model's family. Used for step hints and to warn about parameters it ignores; not sent.",
            api=False,
        ),
    ),
    outputs=(OutputPort("model", PortType.MODEL),),
    summary=("model", "architecture"),
    compile=_compile_model,
)


def _compile_vae(ctx: NodeCompileContext) -> dict[str, Any]:
    return {"vae": ctx.param("model")}


VAE = NodeType(
    id="vae",
    title="VAE",
    category="Models",
    description="Overrides the base model's decoder, which can change colours and fine detail. Not for FLUX.",
    params=(air_param("AIR id of the VAE that replaces the model's own decoder."),),
    outputs=(OutputPort("vae", PortType.VAE),),
    summary=("model",),
    compile=_compile_vae,
)

NODE_TYPES = (MODEL, VAE)
