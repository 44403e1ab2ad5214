"""A Backend that answers in-process with real tiny PNGs: runs in the editor tests never touch a network."""

from __future__ import annotations

import base64
import threading
from typing import Any

from graph_runtime.backends.base import ApiError, Backend, BatchResult, JsonDict
from tests.editor.helpers import tiny_png

FAIL_WORD = "explode"
COST = 0.0025


class FakeBackend(Backend):
    name = "fake"

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate  # when given, inference waits for it (to look at a run in progress)
        self.sent: list[JsonDict] = []

    async def submit(self, tasks: list[JsonDict]) -> BatchResult:
        import asyncio

        if self.gate is not None:
            while not self.gate.is_set():
                await asyncio.sleep(0.01)
        result = BatchResult()
        for task in tasks:
            self.sent.append(task)
            kind = task["taskType"]
            if kind == "imageInference":
                prompt = str(task.get("positivePrompt", ""))
                if FAIL_WORD in prompt:
                    result.errors.append(
                        ApiError("inferenceFailed", "the worker crashed on this prompt", task_uuid=task["taskUUID"])
                    )
                    continue
                seed = int(task.get("seed") or 42)
                for i in range(int(task.get("numberResults", 1))):
                    data = tiny_png(((seed * 37 + i * 80) % 256, 90, 160), 32)
                    item: dict[str, Any] = {
                        "taskType": kind,
                        "taskUUID": task["taskUUID"],
                        "imageUUID": f"00000000-0000-0000-0000-{seed + i:012d}",
                        "seed": seed + i,
                        "imageBase64Data": base64.b64encode(data).decode(),
                    }
                    if task.get("includeCost"):
                        item["cost"] = COST
                    result.items.append(item)
            else:
                result.errors.append(ApiError("unsupported", f"fake backend: no {kind}", task_uuid=task["taskUUID"]))
        return result

    async def poll(self, task_uuids: list[str]) -> BatchResult:
        return BatchResult()
