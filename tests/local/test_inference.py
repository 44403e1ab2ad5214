"""imageInference on real diffusers pipelines over the tiny demo models."""

from __future__ import annotations

import numpy as np
import pytest

from graph_runtime.api_facts import SEED_MAX
from graph_runtime.backends.local.backend import LocalBackend
from graph_runtime.backends.local.demo_models import (
    CONTROLNET,
    EMBEDDING,
    LORA_1,
    LORA_2,
    SD15,
    SDXL,
    SDXL_REFINER,
    VAE,
)
from graph_runtime.backends.local.schedulers import supported_schedulers
from tests.local.helpers import data_uri, diff, image_of, inference, pixels, run_one, shape_png, task_uuid

pytestmark = pytest.mark.local

SAME = 1.0  # mean absolute pixel difference (0-255) below which two images are "the same"


async def test_same_seed_same_image_and_seeds_differ(backend: LocalBackend) -> None:
    a = await image_of(backend, seed=42)
    b = await image_of(backend, seed=42)
    c = await image_of(backend, seed=43)
    assert diff(a, b) < SAME
    assert diff(a, c) > 2 * SAME


async def test_number_results_use_seed_plus_one(backend: LocalBackend) -> None:
    items = await run_one(backend, inference(seed=7, numberResults=2))
    assert [i["seed"] for i in items] == [7, 8]
    single = await image_of(backend, seed=8)
    assert diff(pixels(items[1]), single) < SAME
    assert len({i["imageUUID"] for i in items}) == 2


async def test_random_seed_is_32_bit_and_returned(backend: LocalBackend) -> None:
    task = inference(numberResults=2)
    del task["seed"]
    items = await run_one(backend, task)
    first = items[0]["seed"]
    assert 1 <= first < 2**32 and items[1]["seed"] == first + 1
    again = await image_of(backend, seed=first)
    assert diff(pixels(items[0]), again) < SAME


async def test_huge_seed_is_accepted(backend: LocalBackend) -> None:
    items = await run_one(backend, inference(seed=SEED_MAX))
    assert items[0]["seed"] == SEED_MAX


async def test_refiner_hands_off_latents_16_plus_4(backend: LocalBackend, unet_calls) -> None:
    base, refiner = unet_calls(SDXL), unet_calls(SDXL_REFINER)
    task = inference(model=SDXL, steps=20, CFGScale=1, refiner={"model": SDXL_REFINER, "startStepPercentage": 80})
    await run_one(backend, task)
    assert (base.count, refiner.count) == (16, 4)


async def test_image_to_image_runs_steps_times_strength(backend: LocalBackend, unet_calls) -> None:
    seed_image = data_uri(shape_png())
    counter = unet_calls(SD15)
    await run_one(backend, inference(seedImage=seed_image, strength=0.5, steps=40, CFGScale=1))
    assert counter.count == 20
    counter.count = 0
    # round(), as the API's steps x strength rule says (diffusers alone would truncate 10 x 0.35 to 3).
    await run_one(backend, inference(seedImage=seed_image, strength=0.35, steps=10, CFGScale=1))
    assert counter.count == 4


async def test_inpainting_keeps_unmasked_pixels_closer(backend: LocalBackend) -> None:
    src = data_uri(shape_png())
    from PIL import Image

    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))  # repaint the left half only
    import base64
    import io

    buf = io.BytesIO()
    mask.save(buf, format="PNG")
    out = await image_of(backend, seedImage=src, maskImage=base64.b64encode(buf.getvalue()).decode(), strength=0.9)
    original = np.asarray(Image.open(io.BytesIO(shape_png())).convert("RGB"), dtype=np.int16)
    assert diff(out[:, 40:], original[:, 40:]) < diff(out[:, :24], original[:, :24])


async def test_lora_weight_zero_equals_none_and_two_differ_from_one(backend: LocalBackend) -> None:
    plain = await image_of(backend)
    zero = await image_of(backend, lora=[{"model": LORA_1, "weight": 0}])
    one = await image_of(backend, lora=[{"model": LORA_1, "weight": 1}])
    two = await image_of(backend, lora=[{"model": LORA_1, "weight": 1}, {"model": LORA_2, "weight": 1}])
    assert diff(plain, zero) < SAME
    assert diff(plain, one) > 2 * SAME
    assert diff(one, two) > 2 * SAME
    after = await image_of(backend)  # unloading restores the base model
    assert diff(plain, after) < SAME


async def test_changing_lora_weight_does_not_reload(backend: LocalBackend) -> None:
    await image_of(backend, lora=[{"model": LORA_1, "weight": 0.5}])
    loads, adapter_loads = backend.models.load_counts[SD15], backend.models.adapter_loads[LORA_1]
    a = await image_of(backend, lora=[{"model": LORA_1, "weight": 1.5}])
    b = await image_of(backend, lora=[{"model": LORA_1, "weight": -1.0}])
    assert backend.models.load_counts[SD15] == loads
    assert backend.models.adapter_loads[LORA_1] == adapter_loads
    assert diff(a, b) > 2 * SAME


async def test_embedding_weights_change_the_image(backend: LocalBackend) -> None:
    plain = await image_of(backend)
    positive = await image_of(backend, embeddings=[{"model": EMBEDDING, "weight": 1.0}])
    negative = await image_of(backend, embeddings=[{"model": EMBEDDING, "weight": -1.0}])
    assert diff(plain, positive) > SAME
    assert diff(plain, negative) > SAME
    assert diff(positive, negative) > SAME


async def test_controlnet_weight_and_window(backend: LocalBackend) -> None:
    guide = data_uri(shape_png())
    plain = await image_of(backend, steps=6)

    def cn(**f: object) -> list[dict[str, object]]:
        return [{"model": CONTROLNET, "guideImage": guide, **f}]

    zero = await image_of(backend, steps=6, controlNet=cn(weight=0))
    full = await image_of(backend, steps=6, controlNet=cn(weight=1))
    half = await image_of(backend, steps=6, controlNet=cn(weight=0.5))
    late = await image_of(backend, steps=6, controlNet=cn(weight=1, startStep=4, endStep=6))
    early = await image_of(backend, steps=6, controlNet=cn(weight=1, startStepPercentage=0, endStepPercentage=50))
    assert diff(plain, zero) < SAME
    assert diff(plain, full) > 2 * SAME
    assert diff(full, half) > SAME
    # Guidance only in the last steps changes little; in the first half it does most of what full guidance does.
    assert diff(full, late) > 2 * SAME and diff(late, early) > 2 * SAME
    assert diff(plain, late) < diff(plain, early)


async def test_control_modes_differ(backend: LocalBackend) -> None:
    guide = data_uri(shape_png())
    images = {
        mode: await image_of(backend, controlNet=[{"model": CONTROLNET, "guideImage": guide, "controlMode": mode}])
        for mode in ("balanced", "prompt", "controlnet")
    }
    assert diff(images["balanced"], images["prompt"]) > SAME / 4
    assert diff(images["balanced"], images["controlnet"]) > SAME / 4


async def test_clip_skip_vae_and_blank_prompt_change_the_image(backend: LocalBackend) -> None:
    plain = await image_of(backend)
    assert diff(plain, await image_of(backend, clipSkip=2)) > SAME
    assert diff(plain, await image_of(backend, vae=VAE)) > 2 * SAME
    assert diff(plain, await image_of(backend, positivePrompt="__BLANK__")) > SAME


async def test_every_mapped_scheduler_runs(backend: LocalBackend) -> None:
    names = supported_schedulers()
    assert {"DPM++ 2M Karras", "Euler a", "UniPC", "DDIM", "LCM"} <= set(names)
    tasks = [inference(scheduler=name, steps=2, CFGScale=1, outputType="URL") for name in names]
    result = await backend.submit(tasks)
    assert not result.errors, [str(e) for e in result.errors]
    assert len(result.items) == len(names)


async def test_unsupported_scheduler_lists_the_supported_ones(backend: LocalBackend) -> None:
    task = inference(scheduler="EDMEulerScheduler")
    result = await backend.submit([task])
    (err,) = result.errors
    assert err.code == "unsupportedScheduler" and err.parameter == "scheduler"
    assert err.task_uuid == task["taskUUID"] and err.task_type == "imageInference"
    assert "DPM++ 2M Karras" in err.message and "DPM++ 2M Karras" in err.extra["allowedValues"]


async def test_one_bad_task_does_not_fail_the_batch(backend: LocalBackend) -> None:
    good, missing, bad = inference(), inference(model="civitai:1@2"), inference(width=100)
    result = await backend.submit([good, missing, bad])
    assert [i["taskUUID"] for i in result.items] == [good["taskUUID"]]
    by_task = {e.task_uuid: e for e in result.errors}
    assert by_task[missing["taskUUID"]].code == "modelNotFound"
    assert "civitai:1@2" in by_task[missing["taskUUID"]].message
    assert "loomware models add" in by_task[missing["taskUUID"]].message
    assert by_task[bad["taskUUID"]].parameter == "width" and "multiple of 64" in by_task[bad["taskUUID"]].message
    body = result.to_api()
    assert body["data"] and body["errors"]


@pytest.mark.parametrize(
    ("fields", "parameter"),
    [
        ({"steps": 0}, "steps"),
        ({"CFGScale": 51}, "CFGScale"),
        ({"outputFormat": "GIF"}, "outputFormat"),
        ({"lora": [{"model": LORA_1, "weight": 5}]}, "lora[0].weight"),
        ({"controlNet": [{"model": CONTROLNET}]}, "controlNet[0].guideImage"),
        ({"refiner": {"model": SDXL_REFINER, "startStep": 3, "startStepPercentage": 50}}, "refiner.startStep"),
        ({"refiner": {"model": SDXL_REFINER, "startStepPercentage": 50}}, "refiner.model"),
        ({"seedImage": "file:///etc/passwd"}, "seedImage"),
        ({"seedImage": "https://example.invalid/x.png"}, "seedImage"),
        ({"seedImage": "00000000-0000-4000-8000-000000000000"}, "seedImage"),
        ({"lora": [{"model": "loomware:sdxl-demo@1"}]}, "lora[0].model"),
    ],
)
async def test_bad_parameters_name_the_field(backend: LocalBackend, fields: dict, parameter: str) -> None:
    result = await backend.submit([inference(**fields)])
    assert not result.items
    (err,) = result.errors
    assert err.parameter == parameter, str(err)
    assert err.to_api()["taskUUID"]


async def test_async_delivery_and_get_response(backend: LocalBackend) -> None:
    import asyncio

    task = inference(deliveryMethod="async", numberResults=2)
    ack = await backend.submit([task])
    assert ack.items == [{"taskType": "imageInference", "taskUUID": task["taskUUID"], "status": "processing"}]
    for _ in range(200):
        polled = await backend.submit([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])
        if all(i["status"] == "success" for i in polled.items) and polled.items:
            break
        await asyncio.sleep(0.05)
    assert [i["seed"] for i in polled.items] == [1234, 1235]
    missing = await backend.poll([task_uuid()])
    assert missing.errors[0].code == "taskNotFound"


async def test_url_output_is_served_by_fetch_image_and_reusable(backend: LocalBackend) -> None:
    task = inference(outputType="URL", outputFormat="WEBP", outputQuality=50, includeCost=True)
    (item,) = await run_one(backend, task)
    assert item["imageURL"].startswith("loomware-local://") and item["imageURL"].endswith(".webp")
    assert item["cost"] == 0.0
    data = await backend.fetch_image(item["imageURL"], 10_000_000)
    assert data[:4] == b"RIFF"
    # A generated image feeds the next task by its UUID or its URL: no download and re-upload.
    for ref in (item["imageUUID"], item["imageURL"]):
        await run_one(backend, inference(seedImage=ref, strength=0.5))
    (dataitem,) = await run_one(backend, inference(outputType="dataURI", outputFormat="JPG"))
    assert dataitem["imageDataURI"].startswith("data:image/jpeg;base64,")
