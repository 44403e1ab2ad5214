"""imageUpload, image references and the weight-free ControlNet preprocessors."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from graph_runtime.backends.local.backend import LocalBackend
from graph_runtime.backends.local.preprocess import canny
from tests.local.helpers import data_uri, inference, run_one, shape_png, task_uuid

pytestmark = pytest.mark.local


def preprocess_task(**fields: object) -> dict[str, object]:
    return {
        "taskType": "imageControlNetPreProcess",
        "taskUUID": task_uuid(),
        "inputImage": data_uri(shape_png()),
        "preProcessorType": "canny",
        "outputType": "base64Data",
        "outputFormat": "PNG",
        **fields,
    }


def test_canny_marks_the_edges_of_a_disc() -> None:
    img = Image.open(io.BytesIO(shape_png(128))).convert("RGB")
    edges = np.asarray(canny(img, 100, 200).convert("L")) > 0
    assert edges[64, 32] or edges[64, 31] or edges[64, 33]  # the disc's left rim
    assert not edges[64, 64]  # flat inside
    assert not edges[5, 5]  # flat outside
    assert 0.01 < edges.mean() < 0.2
    # A higher low threshold keeps fewer pixels.
    assert (np.asarray(canny(img, 200, 250).convert("L")) > 0).sum() <= edges.sum()


async def test_upload_then_preprocess_by_uuid_feeds_controlnet(backend: LocalBackend) -> None:
    raw = base64.b64encode(shape_png()).decode()
    (up,) = await run_one(backend, {"taskType": "imageUpload", "taskUUID": task_uuid(), "image": raw})
    (pre,) = await run_one(
        backend, preprocess_task(taskType="controlNetPreprocess", inputImage=up["imageUUID"], lowThresholdCanny=50)
    )
    assert pre["inputImageUUID"] == up["imageUUID"]
    guide = np.asarray(Image.open(io.BytesIO(base64.b64decode(pre["guideImageBase64Data"]))).convert("L"))
    assert set(np.unique(guide)) <= {0, 255} and guide.max() == 255
    controlnet = [{"model": "loomware:controlnet-demo@1", "guideImage": pre["guideImageUUID"]}]
    await run_one(backend, inference(controlNet=controlnet))


async def test_tile_and_shuffle_are_computed_and_sized(backend: LocalBackend) -> None:
    for kind in ("tile", "shuffle"):
        (pre,) = await run_one(backend, preprocess_task(preProcessorType=kind, width=128))
        guide = Image.open(io.BytesIO(base64.b64decode(pre["guideImageBase64Data"])))
        assert guide.size == (128, 128)


async def test_preprocessors_needing_weights_are_refused_clearly(backend: LocalBackend) -> None:
    result = await backend.submit([preprocess_task(preProcessorType="openpose"), preprocess_task()])
    assert len(result.items) == 1
    (err,) = result.errors
    assert err.code == "preprocessorNeedsWeights" and err.parameter == "preProcessorType"
    assert "needs model weights" in err.message and "canny" in err.message


async def test_bad_image_references_are_refused(backend: LocalBackend) -> None:
    cases = {
        "file:///etc/hosts": "file URLs and paths",
        "/etc/hosts": "file URLs and paths",
        "not base64 at all!": "is not an image UUID",
        base64.b64encode(b"plain text, not an image").decode(): "not a PNG",
    }
    for ref, words in cases.items():
        result = await backend.submit([{"taskType": "imageUpload", "taskUUID": task_uuid(), "image": ref}])
        (err,) = result.errors
        assert err.parameter == "image" and words in err.message, err.message
