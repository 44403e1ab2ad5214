"""Image Inference: one imageInference task (text-to-image, image-to-image, inpainting) from everything wired in."""

from __future__ import annotations

from typing import Any

from graph_runtime import api_params as api
from graph_runtime.api_facts import ARCHITECTURES, MIN_USEFUL_IMG2IMG_STEPS, Architecture, img2img_steps
from graph_runtime.api_params import derive
from graph_runtime.compile import NodeCompileContext
from graph_runtime.params import Kind, Param
from graph_runtime.plan import Ref
from graph_runtime.registry import InputPort, NodeType, OutputPort, PortType
from graph_runtime.validate import NodeCheckContext

#: What the seed does after each run in the editor (ComfyUI's "control after generate").
SEED_AFTER_RUN = ("fixed", "increment", "randomize")

PARAMS = (
    derive(api.WIDTH, initial=1024),
    derive(api.HEIGHT, initial=1024),
    api.STEPS,
    api.CFG_SCALE,
    api.SCHEDULER,
    derive(api.SEED, help=api.SEED.help.replace("returned with the result", "recorded in the run's report")),
    Param(
        "seedAfterRun",
        Kind.ENUM,
        default="fixed",
        choices=SEED_AFTER_RUN,
        api=False,
        help="What the editor does to the seed after a run: keep it, add one, or pick a new random one.",
    ),
    api.CLIP_SKIP,
    api.NUMBER_RESULTS,
    api.STRENGTH,
    api.OUTPUT_FORMAT,
    api.OUTPUT_QUALITY,
)


INPUTS = (
    InputPort("positive", PortType.TEXT, help="What the image should show."),
    InputPort("negative", PortType.TEXT, required=False, help="What to avoid (ignored by FLUX)."),
    InputPort("model", PortType.MODEL),
    InputPort("vae", PortType.VAE, required=False),
    InputPort("loras", PortType.LORA, required=False, many=True, help="LoRAs, applied in this order."),
    InputPort("embeddings", PortType.EMBEDDING, required=False, many=True),
    InputPort("controlnets", PortType.CONTROLNET, required=False, many=True),
    InputPort("refiner", PortType.REFINER, required=False),
    InputPort("seed_image", PortType.IMAGE, required=False, help="Image-to-image / inpainting source."),
    InputPort("mask_image", PortType.IMAGE, required=False, help="Inpainting mask (white = repaint)."),
)


def _architecture(ctx: NodeCheckContext) -> Architecture | None:
    for up in ctx.upstream("model"):
        arch = up.node.params.get("architecture")
        if isinstance(arch, str) and arch in ARCHITECTURES and arch != "other":
            return ARCHITECTURES[arch]
    return None


def _check(ctx: NodeCheckContext) -> None:
    steps = ctx.effective("steps") if ctx.valid("steps") else None
    has_seed_image = bool(ctx.upstream("seed_image"))
    if ctx.upstream("mask_image") and not has_seed_image:
        ctx.error("seed_image", "required_input_missing", "inpainting with a mask needs a seed image to paint into")
    if ctx.is_set("strength") and not has_seed_image:
        ctx.warning("strength", "unused_parameter", "strength only applies to image-to-image; it is left out")

    arch = _architecture(ctx)
    if arch is not None:
        _check_architecture(ctx, arch, steps)
    if steps is None:
        return
    if has_seed_image and ctx.valid("strength"):
        actual = img2img_steps(steps, ctx.effective("strength"))
        if actual < MIN_USEFUL_IMG2IMG_STEPS:
            ctx.warning(
                "strength",
                "few_img2img_steps",
                f"only {actual} of {steps} steps run at strength {ctx.effective('strength')} "
                f"(steps x strength); raise steps or strength",
            )
    for up in ctx.upstream("refiner"):
        start = up.node.params.get("startStep")
        if isinstance(start, int) and start > steps:
            ctx.error(
                "startStep",
                "value_out_of_range",
                f"startStep {start} is past the {steps} steps of inference {ctx.node_id!r} (2..{steps})",
                node_id=up.node_id,
            )
    for up in ctx.upstream("controlnets"):
        for name in ("startStep", "endStep"):
            value = up.node.params.get(name)
            if isinstance(value, int) and value > steps:
                ctx.error(
                    name,
                    "value_out_of_range",
                    f"{name} {value} is past the {steps} steps of inference {ctx.node_id!r}",
                    node_id=up.node_id,
                )


def _check_architecture(ctx: NodeCheckContext, arch: Architecture, steps: int | None) -> None:
    if steps is not None and arch.recommended_steps is not None:
        lo, hi = arch.recommended_steps
        if not lo <= steps <= hi:
            ctx.warning(
                "steps",
                "steps_outside_recommended",
                f"{steps} steps on {arch.title}; its recommended range is {lo}-{hi}",
            )
    if ctx.upstream("negative") and not arch.negative_prompt:
        ctx.warning("negative", "negative_prompt_ignored", f"{arch.title} ignores negative prompts")
    if ctx.is_set("clipSkip") and not arch.clip:
        ctx.warning("clipSkip", "clip_skip_ignored", f"{arch.title} has no CLIP text encoder; clipSkip does nothing")
    if ctx.upstream("refiner") and not arch.refiner:
        ctx.warning("refiner", "refiner_not_sdxl", f"refiner models are SDXL only; the model is {arch.title}")
    if ctx.upstream("vae") and not arch.custom_vae:
        ctx.warning("vae", "vae_ignored", f"{arch.title} decodes with its own VAE; the override is not supported")


def _compile(ctx: NodeCompileContext) -> dict[str, Any]:
    fields: dict[str, Any] = {"model": ctx.input("model")["air"], "positivePrompt": ctx.input("positive")}
    if (negative := ctx.input("negative")) is not None:
        fields["negativePrompt"] = negative
    fields.update(ctx.api_params(("width", "height", "steps", "CFGScale", "scheduler", "seed", "clipSkip")))
    if (vae := ctx.input("vae")) is not None:
        fields["vae"] = vae
    fields.update(ctx.api_params(("numberResults",)))
    if (seed_image := ctx.input("seed_image")) is not None:
        fields["seedImage"] = seed_image
        if (mask := ctx.input("mask_image")) is not None:
            fields["maskImage"] = mask
        fields.update(ctx.api_params(("strength",)))
    if (refiner := ctx.input("refiner")) is not None:
        fields["refiner"] = refiner
    for key, port in (("controlNet", "controlnets"), ("lora", "loras"), ("embeddings", "embeddings")):
        if items := ctx.inputs(port):
            fields[key] = items
    fields.update(ctx.api_params(("outputFormat", "outputQuality")))
    task_uuid = ctx.add_task("imageInference", fields)
    return {"image": Ref(task_uuid, "imageUUID")}


IMAGE_INFERENCE = NodeType(
    id="image_inference",
    title="Image Inference",
    category="Generation",
    description="Generates images from prompts and a model: text-to-image, or image-to-image and inpainting with "
    "a seed image and mask. LoRAs, embeddings and ControlNets stack through its list inputs.",
    inputs=INPUTS,
    outputs=(OutputPort("image", PortType.IMAGE, help="The generated image(s); a list when numberResults > 1."),),
    params=PARAMS,
    summary=("width", "height", "steps", "seed"),
    check=_check,
    compile=_compile,
)

NODE_TYPES = (IMAGE_INFERENCE,)
