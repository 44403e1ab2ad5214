"""ControlNet: preprocess an image into a guide (edges, depth, pose, ...) and steer an inference with it.

The preprocess result feeds the ControlNet by its guideImageUUID: no download and re-upload.
"""

from __future__ import annotations

from typing import Any

from graph_runtime import api_params as api
from graph_runtime.api_params import derive
from graph_runtime.compile import NodeCompileContext
from graph_runtime.plan import Ref
from graph_runtime.registry import InputPort, NodeType, OutputPort, PortType
from graph_runtime.validate import NodeCheckContext
from nodes.models import air_param

_CANNY_ONLY = ("lowThresholdCanny", "highThresholdCanny")
_OPENPOSE_ONLY = ("includeHandsAndFaceOpenPose",)


def _check_preprocess(ctx: NodeCheckContext) -> None:
    kind = ctx.effective("preProcessorType")
    if not ctx.valid("preProcessorType"):
        return
    for names, wanted in ((_CANNY_ONLY, "canny"), (_OPENPOSE_ONLY, "openpose")):
        for name in names:
            if ctx.is_set(name) and kind != wanted:
                ctx.warning(name, "unused_parameter", f"{name} only applies to the {wanted} preprocessor; ignored")
    low, high = ctx.effective("lowThresholdCanny"), ctx.effective("highThresholdCanny")
    if kind == "canny" and ctx.valid("lowThresholdCanny") and ctx.valid("highThresholdCanny") and low >= high:
        ctx.error(
            "lowThresholdCanny",
            "invalid_window",
            f"the low threshold ({low}) must be below the high threshold ({high})",
        )


def _compile_preprocess(ctx: NodeCompileContext) -> dict[str, Any]:
    kind = ctx.param("preProcessorType")
    skip = (*(() if kind == "canny" else _CANNY_ONLY), *(() if kind == "openpose" else _OPENPOSE_ONLY))
    fields = {"inputImage": ctx.input("image"), **ctx.api_params()}
    task_uuid = ctx.add_task("imageControlNetPreProcess", {k: v for k, v in fields.items() if k not in skip})
    return {"guide": Ref(task_uuid, "guideImageUUID")}


CONTROLNET_PREPROCESS = NodeType(
    id="controlnet_preprocess",
    title="ControlNet Preprocess",
    category="ControlNet",
    description="Turns an image into a guide image for a ControlNet: canny edges, depth, pose, line art, ...",
    inputs=(InputPort("image", PortType.IMAGE, help="The image to extract structure from."),),
    params=(
        derive(api.PREPROCESSOR_TYPE, initial="canny"),
        derive(api.WIDTH, required=False),
        derive(api.HEIGHT, required=False),
        api.CANNY_LOW,
        api.CANNY_HIGH,
        api.OPENPOSE_HANDS_AND_FACE,
    ),
    outputs=(OutputPort("guide", PortType.IMAGE, help="The guide image (its guideImageUUID)."),),
    summary=("preProcessorType",),
    check=_check_preprocess,
    compile=_compile_preprocess,
)


def _check_controlnet(ctx: NodeCheckContext) -> None:
    for start, end in (("startStep", "endStep"), ("startStepPercentage", "endStepPercentage")):
        a, b = ctx.param(start), ctx.param(end)
        if a is not None and b is not None and ctx.valid(start) and ctx.valid(end) and b <= a:
            ctx.error(end, "invalid_window", f"{end} ({b}) must be greater than {start} ({a})")


def _compile_controlnet(ctx: NodeCompileContext) -> dict[str, Any]:
    return {
        "controlnet": {
            "model": ctx.param("model"),
            "guideImage": ctx.input("guide_image"),
            **ctx.api_params(),
        }
    }


CONTROLNET = NodeType(
    id="controlnet",
    title="ControlNet",
    category="ControlNet",
    description="Steers an inference with a guide image (from ControlNet Preprocess or your own), over a window "
    "of steps. Wire several into an inference's ControlNet list.",
    inputs=(InputPort("guide_image", PortType.IMAGE, help="A preprocessed guide image."),),
    params=(
        air_param("AIR id of the ControlNet model, matching the guide's kind (e.g. runware:25@1 for canny)."),
        api.CONTROLNET_START_STEP,
        api.CONTROLNET_START_PERCENTAGE,
        api.CONTROLNET_END_STEP,
        api.CONTROLNET_END_PERCENTAGE,
        api.CONTROLNET_WEIGHT,
        api.CONTROL_MODE,
    ),
    outputs=(OutputPort("controlnet", PortType.CONTROLNET),),
    summary=("model", "weight"),
    check=_check_controlnet,
    compile=_compile_controlnet,
)

NODE_TYPES = (CONTROLNET_PREPROCESS, CONTROLNET)
