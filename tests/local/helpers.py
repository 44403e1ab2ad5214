"""Helpers shared by the local-engine tests (tasks, pixels, UNet call counters)."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from graph_runtime.backends.local.backend import LocalBackend
from graph_runtime.backends.local.demo_models import SD15


def task_uuid() -> str:
    return str(uuid.uuid4())


def inference(**fields: Any) -> dict[str, Any]:
    """A small, fast imageInference task on the SD 1.5 demo model (64 px, 4 steps, PNG base64 out)."""
    task: dict[str, Any] = {
        "taskType": "imageInference",
        "taskUUID": task_uuid(),
        "model": SD15,
        "positivePrompt": "a lighthouse on a cliff",
        "negativePrompt": "blurry",
        "width": 64,
        "height": 64,
        "steps": 4,
        "CFGScale": 7,
        "seed": 1234,
        "outputType": "base64Data",
        "outputFormat": "PNG",
    }
    task.update(fields)
    return task


def pixels(item: dict[str, Any]) -> np.ndarray:
    data = base64.b64decode(item["imageBase64Data"])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


async def run_one(engine: LocalBackend, task: dict[str, Any]) -> list[dict[str, Any]]:
    result = await engine.submit([task])
    assert not result.errors, [str(e) for e in result.errors]
    return result.items


async def image_of(engine: LocalBackend, **fields: Any) -> np.ndarray:
    return pixels((await run_one(engine, inference(**fields)))[0])


def shape_png(size: int = 64) -> bytes:
    """A white disc and bar on black: something with edges for canny and ControlNet guides."""
    img = Image.new("RGB", (size, size), "black")
    draw = ImageDraw.Draw(img)
    draw.ellipse((size // 4, size // 4, size * 3 // 4, size * 3 // 4), fill="white")
    draw.rectangle((0, size - size // 8, size, size), fill=(200, 80, 20))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


class UnetCalls:
    """Counts forward calls of a UNet with a hook (the real module runs unchanged)."""

    def __init__(self, unet: Any) -> None:
        self.count = 0
        self._handle = unet.register_forward_pre_hook(self._hook)

    def _hook(self, module: Any, args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        self._handle.remove()
