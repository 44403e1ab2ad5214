"""Running one imageInference request on loaded diffusers pipelines (on the engine's worker thread).

Modes: text-to-image, image-to-image (seedImage + strength), inpainting (+ maskImage), each with or without
ControlNets, and the SDXL refiner handoff (base stops at a fraction of the schedule and returns latents; the
refiner continues the same latents: no intermediate image).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image

from graph_runtime.api_facts import ARCHITECTURES, img2img_steps
from graph_runtime.backends.local.catalog import CatalogError
from graph_runtime.backends.local.model_cache import (
    LoadedCheckpoint,
    ModelCache,
    check_family,
    model_error,
)
from graph_runtime.backends.local.task_params import InferenceRequest, invalid

# Pipeline class per (family, mode, with ControlNet).
_PIPELINES: dict[tuple[bool, str, bool], str] = {
    (False, "txt2img", False): "StableDiffusionPipeline",
    (False, "img2img", False): "StableDiffusionImg2ImgPipeline",
    (False, "inpaint", False): "StableDiffusionInpaintPipeline",
    (False, "txt2img", True): "StableDiffusionControlNetPipeline",
    (False, "img2img", True): "StableDiffusionControlNetImg2ImgPipeline",
    (False, "inpaint", True): "StableDiffusionControlNetInpaintPipeline",
    (True, "txt2img", False): "StableDiffusionXLPipeline",
    (True, "img2img", False): "StableDiffusionXLImg2ImgPipeline",
    (True, "inpaint", False): "StableDiffusionXLInpaintPipeline",
    (True, "txt2img", True): "StableDiffusionXLControlNetPipeline",
    (True, "img2img", True): "StableDiffusionXLControlNetImg2ImgPipeline",
    (True, "inpaint", True): "StableDiffusionXLControlNetInpaintPipeline",
}


class Cancelled(Exception):
    pass


@dataclass(frozen=True)
class ResolvedImages:
    """Decoded image references of one request (decoded on the event loop, before the worker runs)."""

    seed_image: Image.Image | None
    mask_image: Image.Image | None
    guides: tuple[Image.Image, ...]


def run_inference(
    cache: ModelCache,
    req: InferenceRequest,
    images: ResolvedImages,
    seeds: list[int],
    on_image: Callable[[Image.Image, int], None],
    cancelled: Callable[[], bool],
) -> None:
    """Generate one image per seed, handing each to `on_image` as soon as it exists."""
    import torch

    cache.begin_task()
    if cache.device.device == "cpu":
        # Random or lightly trained weights drift into denormal floats, which CPUs compute 10-50x slower.
        torch.set_flush_denormal(True)
    ckpt = _model(cache, "checkpoint", req.model, "model")
    arch = ARCHITECTURES.get(ckpt.entry.architecture, ARCHITECTURES["other"])
    if req.clip_skip and not arch.clip:
        raise invalid("clipSkip", f"{arch.title} models have no CLIP text encoder")
    if req.vae and not arch.custom_vae:
        raise invalid("vae", f"{arch.title} models decode with their own VAE")
    if req.refiner and not arch.refiner:
        raise invalid("refiner.model", f"refiners are for SDXL models; {req.model} is {arch.title}")
    if ckpt.is_refiner and req.seed_image is None:
        raise invalid("model", f"{req.model} is an SDXL refiner: name it in refiner.model, or give a seedImage")

    cache.apply_loras(ckpt, [(lo.air, lo.weight, f"lora[{i}].model") for i, lo in enumerate(req.loras)])
    pos_tokens, neg_tokens = cache.apply_embeddings(
        ckpt, [(e.air, e.weight, f"embeddings[{i}].model") for i, e in enumerate(req.embeddings)]
    )
    prompt = " ".join([req.positive, *pos_tokens]).strip()
    negative = " ".join([req.negative, *neg_tokens]).strip()

    vae = None
    if req.vae:
        vae = _model(cache, "vae", req.vae, "vae")
        check_family(cache.catalog.resolve(req.vae, "vae")[0], ckpt.entry, "vae")
    controlnets = []
    for i, cn in enumerate(req.controlnets):
        where = f"controlNet[{i}].model"
        controlnets.append(_model(cache, "controlnet", cn.air, where))
        check_family(cache.catalog.resolve(cn.air, "controlnet")[0], ckpt.entry, where)

    mode = "inpaint" if images.mask_image is not None else "img2img" if images.seed_image is not None else "txt2img"
    pipe = _pipeline(ckpt, mode, controlnets, vae)
    pipe.scheduler = ckpt.scheduler(req.scheduler)

    size = (req.width, req.height)
    kwargs: dict[str, Any] = {
        "prompt": prompt,
        "negative_prompt": negative or None,
        "num_inference_steps": req.steps,
        "guidance_scale": req.cfg_scale,
        "height": req.height,
        "width": req.width,
    }
    if req.clip_skip:
        kwargs["clip_skip"] = req.clip_skip
    if mode != "txt2img":
        actual = img2img_steps(req.steps, req.strength)
        if actual < 1:
            raise invalid("strength", f"steps x strength = {req.steps} x {req.strength} runs no denoising step")
        # diffusers runs int(steps x strength) steps; the API runs round(); aim between two integers.
        kwargs["strength"] = min(1.0, (actual + 0.5) / req.steps)
        kwargs["image"] = _fit(images.seed_image, size, "RGB")
        if mode == "inpaint":
            kwargs["mask_image"] = _fit(images.mask_image, size, "L")
    if controlnets:
        guides = [_fit(g, size, "RGB") for g in images.guides]
        kwargs["control_image" if mode != "txt2img" else "image"] = guides if len(guides) > 1 else guides[0]
        weights = [cn.weight for cn in req.controlnets]
        kwargs["controlnet_conditioning_scale"] = weights if len(weights) > 1 else weights[0]
        kwargs["control_guidance_start"] = [cn.start for cn in req.controlnets]
        kwargs["control_guidance_end"] = [cn.end for cn in req.controlnets]

    refiner_pipe = None
    if req.refiner is not None and req.refiner.start < 1.0:
        if "denoising_end" not in inspect.signature(pipe.__call__).parameters:
            raise invalid("refiner", "the local engine cannot combine a refiner with controlNet")
        refiner = _model(cache, "checkpoint", req.refiner.air, "refiner.model")
        check_family(refiner.entry, ckpt.entry, "refiner.model")
        refiner_pipe = _pipeline(refiner, "img2img", [], None)
        refiner_pipe.scheduler = refiner.scheduler(req.scheduler)
        kwargs["denoising_end"] = req.refiner.start
        kwargs["output_type"] = "latent"

    def stop_when_cancelled(p: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
        if cancelled():
            p._interrupt = True
        return callback_kwargs

    kwargs["callback_on_step_end"] = stop_when_cancelled
    do_cfg = req.cfg_scale > 1
    with _control_modes(controlnets, [cn.mode for cn in req.controlnets], do_cfg), torch.inference_mode():
        for seed in seeds:
            if cancelled():
                raise Cancelled
            generator = torch.Generator("cpu").manual_seed(seed)  # CPU noise: the same image on any device
            out = pipe(**kwargs, generator=generator)
            if refiner_pipe is not None:
                out = refiner_pipe(
                    prompt=prompt,
                    negative_prompt=negative or None,
                    image=out.images,
                    num_inference_steps=req.steps,
                    denoising_start=req.refiner.start,  # type: ignore[union-attr]
                    guidance_scale=req.cfg_scale,
                    generator=generator,
                    callback_on_step_end=stop_when_cancelled,
                )
            if cancelled():
                raise Cancelled
            on_image(out.images[0], seed)


def _model(cache: ModelCache, kind: str, air: str, where: str) -> Any:
    try:
        return getattr(cache, kind)(air)
    except CatalogError as exc:
        raise model_error(exc, where) from exc


def _pipeline(ckpt: LoadedCheckpoint, mode: str, controlnets: list[Any], vae: Any) -> Any:
    """The pipeline class for `mode` over the checkpoint's loaded components (shared, never copied)."""
    import diffusers

    cls = getattr(diffusers, _PIPELINES[(ckpt.is_xl, mode, bool(controlnets))])
    if isinstance(ckpt.pipe, cls) and not controlnets and vae is None:
        return ckpt.pipe
    overrides: dict[str, Any] = {}
    if controlnets:
        overrides["controlnet"] = controlnets if len(controlnets) > 1 else controlnets[0]
    if vae is not None:
        overrides["vae"] = vae
    if overrides:
        return _quiet(cls.from_pipe(ckpt.pipe, **overrides))
    key = (mode, False)
    if key not in ckpt.variants:
        ckpt.variants[key] = _quiet(cls.from_pipe(ckpt.pipe))
    return ckpt.variants[key]


def _quiet(pipe: Any) -> Any:
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _fit(image: Image.Image | None, size: tuple[int, int], mode: str) -> Image.Image:
    assert image is not None
    image = image.convert(mode)
    return image if image.size == size else image.resize(size, Image.LANCZOS)


@contextmanager
def _control_modes(controlnets: list[Any], modes: list[str], do_cfg: bool) -> Iterator[None]:
    """controlMode as A1111 defines it, on each ControlNet's residuals for the length of one request.

    prompt: soft injection (deeper residuals scaled 0.825^k, the prompt dominates);
    controlnet: soft injection plus CFG injection (residuals on the conditional half of the batch only);
    balanced: residuals unchanged.
    """
    handles = []
    calls: dict[int, int] = {}
    per_module: dict[int, list[str]] = {}
    for module, mode in zip(controlnets, modes, strict=True):
        per_module.setdefault(id(module), []).append(mode)

    def hook(module: Any, args: Any, kwargs: Any, output: Any) -> Any:
        ms = per_module[id(module)]
        n = calls.get(id(module), 0)
        calls[id(module)] = n + 1
        mode = ms[n % len(ms)]  # the same ControlNet listed twice is called in list order each step
        if mode == "balanced":
            return output
        down, mid = output[0], output[1]
        residuals = [*down, mid]
        count = len(residuals)
        scaled = [r * (0.825 ** float(count - 1 - i)) for i, r in enumerate(residuals)]
        if mode == "controlnet" and do_cfg:
            half = scaled[0].shape[0] // 2
            scaled = [r.clone() for r in scaled]
            for r in scaled:
                r[:half] = 0
        return (tuple(scaled[:-1]), scaled[-1], *output[2:])

    if any(m != "balanced" for m in modes):
        for module in {id(m): m for m in controlnets}.values():
            handles.append(module.register_forward_hook(hook, with_kwargs=True))
    try:
        yield
    finally:
        for h in handles:
            h.remove()
