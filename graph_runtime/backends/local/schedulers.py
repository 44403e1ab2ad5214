"""API scheduler names -> diffusers scheduler classes and options (the A1111 / ComfyUI naming conventions).

Only names with an honest equivalent for SD 1.5 / SDXL (noise-prediction) models are mapped. Not mapped:
EDM* (for EDM-trained models), FlowMatchEulerDiscreteScheduler (flow-matching models), IPNDMScheduler (ignores
the model's noise schedule). "DPM++ SDE" needs the optional torchsde package and "LMS" needs scipy: they work
when those are installed and are refused with a clear error otherwise.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

from graph_runtime.api_facts import SCHEDULERS

DEFAULT = "Default"  # the model's own scheduler


@dataclass(frozen=True)
class Recipe:
    cls: str
    options: dict[str, Any] = field(default_factory=dict)
    needs: str | None = None  # an optional package the diffusers class imports


_KARRAS = {"use_karras_sigmas": True}
_DPMPP = {"algorithm_type": "dpmsolver++", "solver_order": 2}
_DPMPP_SDE = {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}
_DPMPP_3M = {"algorithm_type": "dpmsolver++", "solver_order": 3}

RECIPES: dict[str, Recipe] = {
    "DDIM": Recipe("DDIMScheduler"),
    "DDIMScheduler": Recipe("DDIMScheduler"),
    "DDPMScheduler": Recipe("DDPMScheduler"),
    "DEISMultistepScheduler": Recipe("DEISMultistepScheduler"),
    "DPM++": Recipe("DPMSolverMultistepScheduler", _DPMPP),
    "DPM++ 2M": Recipe("DPMSolverMultistepScheduler", _DPMPP),
    "DPM++ 2M Karras": Recipe("DPMSolverMultistepScheduler", {**_DPMPP, **_KARRAS}),
    "DPM++ Karras": Recipe("DPMSolverMultistepScheduler", {**_DPMPP, **_KARRAS}),
    "DPM++ 2M SDE": Recipe("DPMSolverMultistepScheduler", _DPMPP_SDE),
    "DPM++ 2M SDE Karras": Recipe("DPMSolverMultistepScheduler", {**_DPMPP_SDE, **_KARRAS}),
    "DPM++ 3M": Recipe("DPMSolverMultistepScheduler", _DPMPP_3M),
    "DPM++ 3M Karras": Recipe("DPMSolverMultistepScheduler", {**_DPMPP_3M, **_KARRAS}),
    "DPM++ 3M Exponential": Recipe("DPMSolverMultistepScheduler", {**_DPMPP_3M, "use_exponential_sigmas": True}),
    "DPM++ 3M SDE Uniform": Recipe(
        "DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 3}
    ),
    "DPM++ SDE": Recipe("DPMSolverSDEScheduler", needs="torchsde"),
    "DPM++ SDE Karras": Recipe("DPMSolverSDEScheduler", _KARRAS, needs="torchsde"),
    "DPMSolverMultistepScheduler": Recipe("DPMSolverMultistepScheduler"),
    "DPMSolverSinglestepScheduler": Recipe("DPMSolverSinglestepScheduler"),
    "Euler": Recipe("EulerDiscreteScheduler"),
    "EulerDiscreteScheduler": Recipe("EulerDiscreteScheduler"),
    "Euler Karras": Recipe("EulerDiscreteScheduler", _KARRAS),
    "Euler a": Recipe("EulerAncestralDiscreteScheduler"),
    "EulerAncestralDiscreteScheduler": Recipe("EulerAncestralDiscreteScheduler"),
    "Heun": Recipe("HeunDiscreteScheduler"),
    "HeunDiscreteScheduler": Recipe("HeunDiscreteScheduler"),
    "Heun Karras": Recipe("HeunDiscreteScheduler", _KARRAS),
    "KDPM2AncestralDiscreteScheduler": Recipe("KDPM2AncestralDiscreteScheduler"),
    "KDPM2DiscreteScheduler": Recipe("KDPM2DiscreteScheduler"),
    "LCM": Recipe("LCMScheduler"),
    "LCMScheduler": Recipe("LCMScheduler"),
    "LMS": Recipe("LMSDiscreteScheduler", needs="scipy"),
    "LMSDiscreteScheduler": Recipe("LMSDiscreteScheduler", needs="scipy"),
    "LMS Karras": Recipe("LMSDiscreteScheduler", _KARRAS, needs="scipy"),
    "PNDMScheduler": Recipe("PNDMScheduler", {"skip_prk_steps": True}),
    "TCDScheduler": Recipe("TCDScheduler"),
    "UniPC": Recipe("UniPCMultistepScheduler"),
    "UniPC 2M": Recipe("UniPCMultistepScheduler", {"solver_order": 2}),
    "UniPC 2M Karras": Recipe("UniPCMultistepScheduler", {"solver_order": 2, **_KARRAS}),
    "UniPC 3M": Recipe("UniPCMultistepScheduler", {"solver_order": 3}),
    "UniPC 3M Karras": Recipe("UniPCMultistepScheduler", {"solver_order": 3, **_KARRAS}),
    "UniPC Karras": Recipe("UniPCMultistepScheduler", _KARRAS),
}
_unknown = set(RECIPES) - set(SCHEDULERS)
assert not _unknown, f"scheduler names not in api_facts.SCHEDULERS: {_unknown}"


def supported_schedulers() -> list[str]:
    """API names this installation can run, in the API's own order ("Default" first)."""
    ok = {name for name, r in RECIPES.items() if r.needs is None or importlib.util.find_spec(r.needs)}
    return [name for name in SCHEDULERS if name == DEFAULT or name in ok]


def make_scheduler(name: str, base_config: Any) -> Any:
    """A fresh scheduler for `name` built on the model's own noise schedule (betas, timesteps, prediction)."""
    import diffusers

    recipe = RECIPES[name]
    cls = getattr(diffusers, recipe.cls)
    return cls.from_config(base_config, **recipe.options)
