"""Refiner: an SDXL refiner that takes over the same latent for the last steps (no intermediate image)."""

from __future__ import annotations

from typing import Any

from graph_runtime.api_params import REFINER_START_PERCENTAGE, REFINER_START_STEP
from graph_runtime.compile import NodeCompileContext
from graph_runtime.registry import NodeType, OutputPort, PortType
from graph_runtime.validate import NodeCheckContext
from nodes.models import air_param


def _check(ctx: NodeCheckContext) -> None:
    if not ctx.is_set("startStep") and not ctx.is_set("startStepPercentage"):
        ctx.error(
            "startStep",
            "required_param_missing",
            "set startStep (2 to the inference's steps) or startStepPercentage (1-99)",
        )


def _compile(ctx: NodeCompileContext) -> dict[str, Any]:
    return {"refiner": {"model": ctx.param("model"), **ctx.api_params()}}


REFINER = NodeType(
    id="refiner",
    title="Refiner",
    category="Models",
    description="An SDXL refiner that finishes the base model's latent for the last steps. Best for the final "
    "5-15% of the steps; SDXL only.",
    params=(
        air_param("AIR id of the SDXL refiner, e.g. civitai:101055@128080 (the official one)."),
        REFINER_START_STEP,
        REFINER_START_PERCENTAGE,
    ),
    outputs=(OutputPort("refiner", PortType.REFINER),),
    summary=("model", "startStep", "startStepPercentage"),
    check=_check,
    compile=_compile,
)

NODE_TYPES = (REFINER,)
