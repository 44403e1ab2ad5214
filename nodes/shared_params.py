"""Parameter declarations used by more than one node type (declared once, so a range has one home)."""

from __future__ import annotations

from graph_runtime.params import Kind, Param


def dimension(name: str, *, required: bool, initial: int | None = None) -> Param:
    return Param(
        name,
        Kind.INT,
        required=required,
        initial=initial,
        minimum=128,
        maximum=2048,
        multiple_of=64,
        help=f"Image {name} in pixels: 128-2048, divisible by 64 (128 ... 512, 576, 640 ... 2048).",
    )


#: Steps of a generation: the bound for every step-numbered field (ControlNet window, refiner start).
MAX_STEPS = 100


def step_bounds(owner: str, *, start_min: int, pct_start_min: int) -> tuple[Param, ...]:
    """startStep / startStepPercentage (and for ControlNet endStep / endStepPercentage): two forms of a bound."""
    return (
        Param(
            "startStep",
            Kind.INT,
            minimum=start_min,
            maximum=MAX_STEPS,
            exclusive_with="startStepPercentage",
            help=f"Step at which the {owner} starts ({start_min} to the inference's steps). "
            "Alternative to startStepPercentage.",
        ),
        Param(
            "startStepPercentage",
            Kind.INT,
            minimum=pct_start_min,
            maximum=99,
            help=f"Percentage of the steps at which the {owner} starts ({pct_start_min}-99). Alternative to startStep.",
        ),
    )
