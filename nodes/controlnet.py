"""ControlNet: preprocess an image into a guide (edges, depth, pose, ...) and steer an inference with it.

The preprocess result feeds the ControlNet by its guideImageUUID: no download and re-upload.
"""

from __future__ import annotations

from typing import Any

from graph_runtime.api_facts import CONTROL_MODES, PREPROCESSORS
from graph_runtime.compile import NodeCompileContext
from graph_runtime.params import Kind, Param
from graph_runtime.plan import Ref
from graph_runtime.registry import InputPort, NodeType, OutputPort, PortType
from graph_runtime.validate import NodeCheckContext
from nodes.models import air_param
from nodes.shared_params import MAX_STEPS, dimension, step_bounds

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
        Param(
            "preProcessorType",
            Kind.ENUM,
            required=True,
            initial="canny",
            choices=PREPROCESSORS,
            help="Which guide to extract; pick the one the ControlNet model was trained on.",
        ),
        dimension("width", required=False),
        dimension("height", required=False),
        Param(
            "lowThresholdCanny",
            Kind.INT,
            default=100,
            minimum=0,
            maximum=255,
            help="Canny only: edges weaker than this are dropped.",
        ),
        Param(
            "highThresholdCanny",
            Kind.INT,
            default=200,
            minimum=0,
            maximum=255,
            help="Canny only: edges stronger than this are always kept.",
        ),
        Param(
            "includeHandsAndFaceOpenPose",
            Kind.BOOL,
            default=False,
            help="OpenPose only: detect hands and face as well as the body.",
        ),
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
        *step_bounds("guidance", start_min=1, pct_start_min=0),
        Param(
            "endStep",
            Kind.INT,
            minimum=2,
            maximum=MAX_STEPS,
            exclusive_with="endStepPercentage",
            help="Step at which the guidance ends: above startStep, at most the inference's steps. "
            "Alternative to endStepPercentage.",
        ),
        Param(
            "endStepPercentage",
            Kind.INT,
            minimum=1,
            maximum=100,
            help="Percentage of the steps at which the guidance ends: above startStepPercentage, at most 100.",
        ),
        Param(
            "weight",
            Kind.FLOAT,
            default=1.0,
            minimum=0,
            maximum=1,
            help="How strongly the guide steers the image: 0 no influence, 1 full influence.",
        ),
        Param(
            "controlMode",
            Kind.ENUM,
            choices=CONTROL_MODES,
            help="prompt: the prompt matters more; controlnet: the guide matters more; balanced: both.",
        ),
    ),
    outputs=(OutputPort("controlnet", PortType.CONTROLNET),),
    summary=("model", "weight"),
    check=_check_controlnet,
    compile=_compile_controlnet,
)

NODE_TYPES = (CONTROLNET_PREPROCESS, CONTROLNET)
