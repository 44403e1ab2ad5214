"""Facts of the Runware image API that are not a single node parameter: names, lists and per-architecture hints.

This module is the one source of truth for them. Node declarations, validation, the editor's combo boxes, the
JSON Schema and the local engine all read these; nothing else spells a scheduler name or a range twice.
Sources: the API's "Text to image" and "Steps" pages (carried into tests/golden as fixtures).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Scheduler names the API accepts for `imageInference.scheduler`.
SCHEDULERS: tuple[str, ...] = (
    "Default",
    "DDIM",
    "DDIMScheduler",
    "DDPMScheduler",
    "DEISMultistepScheduler",
    "DPM++",
    "DPM++ 2M",
    "DPM++ 2M Karras",
    "DPM++ 2M SDE",
    "DPM++ 2M SDE Karras",
    "DPM++ 3M",
    "DPM++ 3M Karras",
    "DPM++ 3M Exponential",
    "DPM++ 3M SDE Uniform",
    "DPM++ Karras",
    "DPM++ SDE",
    "DPM++ SDE Karras",
    "DPMSolverMultistepScheduler",
    "DPMSolverSinglestepScheduler",
    "EDMDPMSolverMultistepScheduler",
    "EDMEulerScheduler",
    "Euler",
    "Euler a",
    "Euler Karras",
    "EulerAncestralDiscreteScheduler",
    "EulerDiscreteScheduler",
    "FlowMatchEulerDiscreteScheduler",
    "Heun",
    "HeunDiscreteScheduler",
    "Heun Karras",
    "IPNDMScheduler",
    "KDPM2AncestralDiscreteScheduler",
    "KDPM2DiscreteScheduler",
    "LCM",
    "LCMScheduler",
    "LMS",
    "LMSDiscreteScheduler",
    "LMS Karras",
    "PNDMScheduler",
    "TCDScheduler",
    "UniPC",
    "UniPC 2M",
    "UniPC 2M Karras",
    "UniPC 3M",
    "UniPC 3M Karras",
    "UniPC Karras",
)

#: `preProcessorType` values of `imageControlNetPreProcess`.
PREPROCESSORS: tuple[str, ...] = (
    "canny",
    "depth",
    "mlsd",
    "normalbae",
    "openpose",
    "tile",
    "seg",
    "lineart",
    "lineart_anime",
    "shuffle",
    "scribble",
    "softedge",
)

CONTROL_MODES: tuple[str, ...] = ("prompt", "controlnet", "balanced")
OUTPUT_TYPES: tuple[str, ...] = ("URL", "base64Data", "dataURI")
OUTPUT_FORMATS: tuple[str, ...] = ("JPG", "PNG", "WEBP")

#: Prompt text that asks for generation with no prompt guidance.
BLANK_PROMPT = "__BLANK__"

#: Seeds the API accepts; random seeds it picks itself are 32-bit.
SEED_MIN = 1
SEED_MAX = 9_223_372_036_854_775_807
RANDOM_SEED_MAX = 2**32 - 1


@dataclass(frozen=True)
class Architecture:
    """What Loomware knows of a model family: its step sweet spot and which parameters it honours."""

    id: str
    title: str
    recommended_steps: tuple[int, int] | None
    max_recommended_steps: int | None
    negative_prompt: bool  # FLUX-style models ignore negativePrompt
    clip: bool  # clipSkip only affects CLIP text encoders
    custom_vae: bool  # FLUX decodes with its own integrated VAE
    refiner: bool  # refiner models are SDXL-only


ARCHITECTURES: dict[str, Architecture] = {
    a.id: a
    for a in (
        Architecture("sd1.5", "SD 1.5", (20, 40), 50, True, True, True, False),
        Architecture("sdxl", "SDXL", (20, 35), 50, True, True, True, True),
        Architecture("flux-dev", "FLUX Dev", (20, 30), 50, False, False, False, False),
        Architecture("flux-schnell", "FLUX Schnell", (4, 8), 50, False, False, False, False),
        Architecture("z-image", "Z-Image", (20, 30), 50, False, False, False, False),
        Architecture("z-image-turbo", "Z-Image Turbo", (4, 8), 50, False, False, False, False),
        Architecture("sd1.5-lcm", "SD 1.5 LCM", (4, 8), 50, True, True, True, False),
        Architecture("sdxl-lcm", "SDXL LCM", (4, 8), 50, True, True, True, True),
        Architecture("sdxl-lightning", "SDXL Lightning", (4, 8), 50, True, True, True, True),
        Architecture("other", "Other / unknown", None, None, True, True, True, True),
    )
}

#: Image-to-image with fewer actual denoising steps than this is almost surely a mistake (steps x strength).
MIN_USEFUL_IMG2IMG_STEPS = 5

# AIR identifiers: `source:id@version`, ids and versions not always numeric; the long URN form is accepted too.
_AIR_SHORT = r"[a-z0-9][\w.-]*:[\w.-]+@[\w.+-]+"
AIR_PATTERN = re.compile(rf"^(?:urn:air:[\w.-]+:[\w.-]+:)?{_AIR_SHORT}$")


def is_air(value: str) -> bool:
    return bool(AIR_PATTERN.match(value))


def img2img_steps(steps: int, strength: float) -> int:
    """Denoising steps that actually run for image-to-image: the last round(steps x strength)."""
    return round(steps * strength)
