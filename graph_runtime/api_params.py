"""Every API task field as a `Param`: its type, range, default and help, from the API's documentation.

The one home of these facts. Node declarations reuse these objects (renamed or made required where a node
needs it) and the local engine checks incoming tasks against them, so a range is never written twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from graph_runtime.api_facts import (
    BLANK_PROMPT,
    CONTROL_MODES,
    OUTPUT_FORMATS,
    OUTPUT_TYPES,
    PREPROCESSORS,
    SCHEDULERS,
    SEED_MAX,
    SEED_MIN,
)
from graph_runtime.params import Kind, Param

#: Upper bound of every step-numbered field (the ControlNet window, the refiner's start).
MAX_STEPS = 100


def derive(param: Param, **changes: Any) -> Param:
    """A variant of an API field for one use (another name, required, an initial value); checks still apply."""
    return replace(param, **changes)


# ---------------------------------------------------------------------------------------------- imageInference

POSITIVE_PROMPT = Param(
    "positivePrompt",
    Kind.TEXT,
    required=True,
    min_length=2,
    max_length=3000,
    help=f"What the image should show. 2-3000 characters; {BLANK_PROMPT} generates with no prompt guidance.",
)
NEGATIVE_PROMPT = Param(
    "negativePrompt",
    Kind.TEXT,
    min_length=2,
    max_length=3000,
    help="What to avoid. 2-3000 characters. Ignored by architectures without negative prompts (FLUX).",
)
MODEL = Param("model", Kind.AIR, required=True, help="AIR id of the model (source:id@version), e.g. runware:101@1.")


def dimension(name: str) -> Param:
    return Param(
        name,
        Kind.INT,
        required=True,
        minimum=128,
        maximum=2048,
        multiple_of=64,
        help=f"Image {name} in pixels: 128-2048, divisible by 64 (128 ... 512, 576, 640 ... 2048).",
    )


WIDTH = dimension("width")
HEIGHT = dimension("height")
STEPS = Param(
    "steps",
    Kind.INT,
    default=20,
    minimum=1,
    maximum=MAX_STEPS,
    help="Denoising iterations: more refine further, with diminishing returns. 1-100.",
)
CFG_SCALE = Param(
    "CFGScale",
    Kind.FLOAT,
    default=7.0,
    minimum=0,
    maximum=50,
    help="How closely the image follows the prompt: 0-50; 0 or 1 turns guidance off.",
)
SCHEDULER = Param(
    "scheduler",
    Kind.ENUM,
    choices=SCHEDULERS,
    help="The sampling algorithm; unset uses the model's own (DPM++ 2M Karras is a good all-rounder).",
)
SEED = Param(
    "seed",
    Kind.SEED,
    minimum=SEED_MIN,
    maximum=SEED_MAX,
    help="Starting noise: the same seed and settings give the same image. Unset: a random seed, returned "
    "with the result.",
)
CLIP_SKIP = Param(
    "clipSkip",
    Kind.INT,
    minimum=0,
    maximum=2,
    help="Extra CLIP layers to skip when reading the prompt (SD 1.5 and SDXL only): 0-2.",
)
VAE = Param("vae", Kind.AIR, help="AIR id of a VAE that replaces the model's own decoder (not for FLUX).")
NUMBER_RESULTS = Param(
    "numberResults",
    Kind.INT,
    default=1,
    minimum=1,
    maximum=20,
    help="Images to make; each extra one uses seed + 1, + 2, ...",
)
STRENGTH = Param(
    "strength",
    Kind.FLOAT,
    default=0.8,
    minimum=0,
    maximum=1,
    help="Image-to-image only: how much of the seed image to repaint (0-1). Only the last round(steps x "
    "strength) steps run.",
)
OUTPUT_TYPE = Param("outputType", Kind.ENUM, default="URL", choices=OUTPUT_TYPES, help="How results come back.")
OUTPUT_FORMAT = Param(
    "outputFormat",
    Kind.ENUM,
    default="JPG",
    choices=OUTPUT_FORMATS,
    help="File format of the result; transparency needs PNG or WEBP.",
)
OUTPUT_QUALITY = Param(
    "outputQuality",
    Kind.INT,
    default=95,
    minimum=20,
    maximum=99,
    help="Compression quality of JPG and WEBP results: 20-99.",
)
INCLUDE_COST = Param("includeCost", Kind.BOOL, default=False, help="Add each result's cost in USD.")
DELIVERY_METHOD = Param(
    "deliveryMethod",
    Kind.ENUM,
    default="sync",
    choices=("sync", "async"),
    help="sync: the response carries the results; async: acknowledge now, poll with getResponse.",
)

# ---------------------------------------------------------------------------------------------- lora, embeddings

ADAPTER_WEIGHT = Param(
    "weight",
    Kind.FLOAT,
    default=1.0,
    minimum=-4,
    maximum=4,
    help="Strength: -4 (negative influence) to 4 (maximum influence); 0 turns it off.",
)

# ---------------------------------------------------------------------------------------------- controlNet

CONTROLNET_WEIGHT = Param(
    "weight",
    Kind.FLOAT,
    default=1.0,
    minimum=0,
    maximum=1,
    help="How strongly the guide steers the image: 0 no influence, 1 full influence.",
)
CONTROLNET_START_STEP = Param(
    "startStep",
    Kind.INT,
    minimum=1,
    maximum=MAX_STEPS,
    exclusive_with="startStepPercentage",
    help="Step at which the guidance starts (1 to the inference's steps). Alternative to startStepPercentage.",
)
CONTROLNET_START_PERCENTAGE = Param(
    "startStepPercentage",
    Kind.INT,
    minimum=0,
    maximum=99,
    help="Percentage of the steps at which the guidance starts (0-99). Alternative to startStep.",
)
CONTROLNET_END_STEP = Param(
    "endStep",
    Kind.INT,
    minimum=2,
    maximum=MAX_STEPS,
    exclusive_with="endStepPercentage",
    help="Step at which the guidance ends: above startStep, at most the inference's steps. Alternative to "
    "endStepPercentage.",
)
CONTROLNET_END_PERCENTAGE = Param(
    "endStepPercentage",
    Kind.INT,
    minimum=1,
    maximum=100,
    help="Percentage of the steps at which the guidance ends: above startStepPercentage, at most 100.",
)
CONTROL_MODE = Param(
    "controlMode",
    Kind.ENUM,
    choices=CONTROL_MODES,
    help="prompt: the prompt matters more; controlnet: the guide matters more; balanced: both.",
)

# ---------------------------------------------------------------------------------------------- refiner

REFINER_START_STEP = Param(
    "startStep",
    Kind.INT,
    minimum=2,
    maximum=MAX_STEPS,
    exclusive_with="startStepPercentage",
    help="Step at which the refiner takes over (2 to the inference's steps). Alternative to startStepPercentage.",
)
REFINER_START_PERCENTAGE = Param(
    "startStepPercentage",
    Kind.INT,
    minimum=1,
    maximum=99,
    help="Percentage of the steps at which the refiner takes over (1-99). Alternative to startStep.",
)

# ---------------------------------------------------------------------------------------------- preprocess

PREPROCESSOR_TYPE = Param(
    "preProcessorType",
    Kind.ENUM,
    required=True,
    choices=PREPROCESSORS,
    help="Which guide to extract; pick the one the ControlNet model was trained on.",
)
CANNY_LOW = Param(
    "lowThresholdCanny",
    Kind.INT,
    default=100,
    minimum=0,
    maximum=255,
    help="Canny only: edges weaker than this are dropped.",
)
CANNY_HIGH = Param(
    "highThresholdCanny",
    Kind.INT,
    default=200,
    minimum=0,
    maximum=255,
    help="Canny only: edges stronger than this are always kept.",
)
OPENPOSE_HANDS_AND_FACE = Param(
    "includeHandsAndFaceOpenPose",
    Kind.BOOL,
    default=False,
    help="OpenPose only: detect hands and face as well as the body.",
)
