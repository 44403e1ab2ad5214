"""Reading API tasks into typed requests, with an API-format error naming the field and the allowed values.

Ranges are the API's (../spec) except width/height, where the local engine also accepts 64 (the API's minimum
is 128) so that previews and tests on tiny models stay fast. Unknown fields are ignored, like the API does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph_runtime import api_params as api
from graph_runtime.api_facts import BLANK_PROMPT
from graph_runtime.backends.base import ApiError, JsonDict
from graph_runtime.params import Kind, Param

# The API's own field declarations; the engine departs from them only where it says so.
P_PROMPT = api.POSITIVE_PROMPT
P_NEGATIVE = api.NEGATIVE_PROMPT
P_MODEL = api.MODEL
# The local engine also renders 64 px (the API's minimum is 128) so previews and tests on tiny models stay fast.
P_WIDTH = api.derive(api.WIDTH, minimum=64)
P_HEIGHT = api.derive(api.HEIGHT, minimum=64)
P_STEPS = api.STEPS
P_CFG = api.CFG_SCALE
P_SCHEDULER = api.derive(api.SCHEDULER, kind=Kind.STRING, choices=())  # checked against the engine's own mapping
P_SEED = api.SEED
P_CLIP_SKIP = api.derive(api.CLIP_SKIP, default=0)  # unset: no extra layers skipped
P_VAE = api.VAE
P_NUMBER_RESULTS = api.NUMBER_RESULTS
P_STRENGTH = api.STRENGTH
P_OUTPUT_TYPE = api.OUTPUT_TYPE
P_OUTPUT_FORMAT = api.OUTPUT_FORMAT
P_OUTPUT_QUALITY = api.OUTPUT_QUALITY
P_INCLUDE_COST = api.INCLUDE_COST
P_DELIVERY = api.DELIVERY_METHOD
P_IMAGE_REF = Param("image", Kind.STRING, min_length=1)
P_ADAPTER_WEIGHT = api.ADAPTER_WEIGHT
P_CN_WEIGHT = api.CONTROLNET_WEIGHT
P_CN_START_PCT = api.CONTROLNET_START_PERCENTAGE
P_CN_END_PCT = api.CONTROLNET_END_PERCENTAGE
P_CN_MODE = api.derive(api.CONTROL_MODE, default="balanced")  # unset: neither side favoured
P_REFINER_PCT = api.REFINER_START_PERCENTAGE
P_PREPROCESSOR = api.PREPROCESSOR_TYPE
P_CANNY_LOW = api.CANNY_LOW
P_CANNY_HIGH = api.CANNY_HIGH


def invalid(field: str, message: str, **extra: Any) -> ApiError:
    return ApiError("invalidParameter", f"{field}: {message}", parameter=field, http_status=400, extra=extra)


class _Reader:
    """Reads fields of one JSON object with Param checks; `prefix` names nested fields (lora[0].weight)."""

    def __init__(self, obj: JsonDict, prefix: str = "") -> None:
        self.obj = obj
        self.prefix = prefix

    def get(self, p: Param, *, name: str | None = None, default: Any = None) -> Any:
        key = name or p.name
        where = self.prefix + key
        value = self.obj.get(key)
        if value is None:
            if p.required:
                raise invalid(where, f"is required ({p.range_text or p.kind.value})")
            return p.default if default is None else default
        if p.kind is Kind.FLOAT and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if issues := p.check(value):
            extra = {"allowedValues": list(p.choices)} if p.choices else {}
            raise invalid(where, issues[0].message, **extra)
        return value

    def get_int_range(self, key: str, lo: int, hi: int) -> int | None:
        return self.get(Param(key, Kind.INT, minimum=lo, maximum=hi))

    def items(self, key: str) -> list[_Reader]:
        value = self.obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise invalid(self.prefix + key, "must be an array of objects")
        return [_Reader(v, f"{self.prefix}{key}[{i}].") for i, v in enumerate(value)]

    def obj_field(self, key: str) -> _Reader | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise invalid(self.prefix + key, "must be an object")
        return _Reader(value, f"{self.prefix}{key}.")


@dataclass(frozen=True)
class OutputOptions:
    output_type: str = "URL"
    output_format: str = "JPG"
    quality: int = 95
    include_cost: bool = False


@dataclass(frozen=True)
class AdapterSpec:
    """A LoRA or an embedding with its weight."""

    air: str
    weight: float


@dataclass(frozen=True)
class ControlNetSpec:
    air: str
    guide_image: str
    weight: float
    start: float  # fraction of the steps, diffusers' control_guidance_start
    end: float
    mode: str


@dataclass(frozen=True)
class RefinerSpec:
    air: str
    start: float  # fraction of the steps the base model denoises


@dataclass(frozen=True)
class InferenceRequest:
    task_uuid: str
    model: str
    positive: str
    negative: str
    width: int
    height: int
    steps: int
    cfg_scale: float
    scheduler: str | None
    seed: int | None
    clip_skip: int
    vae: str | None
    number_results: int
    seed_image: str | None
    mask_image: str | None
    strength: float
    refiner: RefinerSpec | None
    controlnets: tuple[ControlNetSpec, ...]
    loras: tuple[AdapterSpec, ...]
    embeddings: tuple[AdapterSpec, ...]
    output: OutputOptions = field(default_factory=OutputOptions)


@dataclass(frozen=True)
class PreprocessRequest:
    task_uuid: str
    task_type: str
    input_image: str
    preprocessor: str
    width: int | None
    height: int | None
    low_threshold: int
    high_threshold: int
    output: OutputOptions


def _prompt(r: _Reader, p: Param) -> str:
    text = r.get(p)
    if text is None or text == BLANK_PROMPT:
        return ""
    return text


def read_output(r: _Reader) -> OutputOptions:
    return OutputOptions(r.get(P_OUTPUT_TYPE), r.get(P_OUTPUT_FORMAT), r.get(P_OUTPUT_QUALITY), r.get(P_INCLUDE_COST))


def read_delivery(task: JsonDict) -> str:
    return _Reader(task).get(P_DELIVERY)


def _step_fraction(
    r: _Reader, steps: int, step_key: str, pct_key: str, step_lo: int, pct: Param, *, is_end: bool
) -> float | None:
    """One bound of a window, given either as a step number or as a percentage (never both)."""
    if r.obj.get(step_key) is not None and r.obj.get(pct_key) is not None:
        raise invalid(r.prefix + step_key, f"give {step_key} or {pct_key}, not both")
    if r.obj.get(step_key) is not None:
        step = r.get_int_range(step_key, step_lo, steps)
        assert step is not None
        # Step n (1-based) starts at (n-1)/steps and ends at n/steps of the schedule.
        return step / steps if is_end else (step - 1) / steps
    value = r.get(pct)
    return None if value is None else value / 100


def read_inference(task: JsonDict, task_uuid: str) -> InferenceRequest:
    r = _Reader(task)
    steps = r.get(P_STEPS)
    controlnets: list[ControlNetSpec] = []
    for item in r.items("controlNet"):
        guide = item.get(Param("guideImage", Kind.STRING, required=True, min_length=1))
        start = _step_fraction(item, steps, "startStep", "startStepPercentage", 1, P_CN_START_PCT, is_end=False)
        end = _step_fraction(item, steps, "endStep", "endStepPercentage", 1, P_CN_END_PCT, is_end=True)
        start = 0.0 if start is None else start
        end = 1.0 if end is None else end
        if end <= start:
            raise invalid(item.prefix + "endStep", f"must come after the start ({start:.0%} of the steps)")
        controlnets.append(
            ControlNetSpec(item.get(P_MODEL), guide, item.get(P_CN_WEIGHT), start, end, item.get(P_CN_MODE))
        )
    refiner: RefinerSpec | None = None
    if (ref := r.obj_field("refiner")) is not None:
        if ref.obj.get("startStep") is None and ref.obj.get("startStepPercentage") is None:
            raise invalid("refiner.startStep", "give startStep (2..steps) or startStepPercentage (1..99)")
        if ref.obj.get("startStep") is not None and ref.obj.get("startStepPercentage") is not None:
            raise invalid("refiner.startStep", "give startStep or startStepPercentage, not both")
        if ref.obj.get("startStep") is not None:
            if steps < 2:
                raise invalid("refiner.startStep", "a refiner needs at least 2 steps")
            start_step = ref.get_int_range("startStep", 2, steps)
            assert start_step is not None
            fraction = start_step / steps  # the base denoises up to this step, the refiner does the rest
        else:
            fraction = ref.get(P_REFINER_PCT) / 100
        refiner = RefinerSpec(ref.get(P_MODEL), fraction)
    seed_image = r.get(Param("seedImage", Kind.STRING, min_length=1))
    mask_image = r.get(Param("maskImage", Kind.STRING, min_length=1))
    if mask_image is not None and seed_image is None:
        raise invalid("maskImage", "inpainting needs a seedImage too")
    return InferenceRequest(
        task_uuid=task_uuid,
        model=r.get(P_MODEL),
        positive=_prompt(r, P_PROMPT),
        negative=_prompt(r, P_NEGATIVE),
        width=r.get(P_WIDTH),
        height=r.get(P_HEIGHT),
        steps=steps,
        cfg_scale=float(r.get(P_CFG)),
        scheduler=r.get(P_SCHEDULER),
        seed=r.get(P_SEED),
        clip_skip=r.get(P_CLIP_SKIP),
        vae=r.get(P_VAE),
        number_results=r.get(P_NUMBER_RESULTS),
        seed_image=seed_image,
        mask_image=mask_image,
        strength=float(r.get(P_STRENGTH)),
        refiner=refiner,
        controlnets=tuple(controlnets),
        loras=tuple(AdapterSpec(i.get(P_MODEL), float(i.get(P_ADAPTER_WEIGHT))) for i in r.items("lora")),
        embeddings=tuple(AdapterSpec(i.get(P_MODEL), float(i.get(P_ADAPTER_WEIGHT))) for i in r.items("embeddings")),
        output=read_output(r),
    )


def read_preprocess(task: JsonDict, task_uuid: str) -> PreprocessRequest:
    r = _Reader(task)
    low, high = r.get(P_CANNY_LOW), r.get(P_CANNY_HIGH)
    if low > high:
        raise invalid("lowThresholdCanny", f"{low} is above highThresholdCanny {high}")
    return PreprocessRequest(
        task_uuid=task_uuid,
        task_type=task["taskType"],
        input_image=r.get(Param("inputImage", Kind.STRING, required=True, min_length=1)),
        preprocessor=r.get(P_PREPROCESSOR),
        width=r.get(api.derive(P_WIDTH, required=False)),
        height=r.get(api.derive(P_HEIGHT, required=False)),
        low_threshold=low,
        high_threshold=high,
        output=read_output(r),
    )


def read_upload_image(task: JsonDict) -> str:
    return _Reader(task).get(Param("image", Kind.STRING, required=True, min_length=1))
