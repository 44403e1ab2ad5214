"""Graphs equivalent to every JSON request example of the API's documentation compile to those requests,
field for field (taskUUID aside)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from graph_runtime.builder import WorkflowBuilder
from graph_runtime.compile import compile_workflow

GOLDEN = Path(__file__).parent / "golden"


def _text_to_image(b: WorkflowBuilder, model: str, prompt: str, **infer: Any) -> None:
    b.node("model", "model", model=model)
    b.node("prompt", "prompt", text=prompt)
    b.node("infer", "image_inference", **infer)
    b.node("save", "save_image")
    b.link("model", "model", "infer", "model")
    b.link("prompt", "text", "infer", "positive")
    b.link("infer", "image", "save", "image")


def basic(b: WorkflowBuilder) -> None:
    _text_to_image(
        b,
        "runware:101@1",
        "An astronaut floating inside a giant hourglass in space, surrounded by stars and glowing dust, with "
        "galaxies swirling faintly above and golden sand below. Dreamy, surreal, cinematic",
        width=1024,
        height=1024,
        steps=30,
    )


def steps(b: WorkflowBuilder) -> None:
    _text_to_image(
        b,
        "civitai:101055@128078",
        "A giant jellyfish floating through a sunlit canyon",
        steps=30,
        width=1024,
        height=1024,
    )


def refiner(b: WorkflowBuilder) -> None:
    _text_to_image(
        b,
        "civitai:139562@297320",
        "a highly detailed portrait of a wise old wizard with a long beard",
        height=1024,
        width=1024,
        steps=40,
    )
    b.node("refiner", "refiner", model="civitai:101055@128080", startStep=30)
    b.link("refiner", "refiner", "infer", "refiner")


def _base(b: WorkflowBuilder) -> None:
    _text_to_image(b, "civitai:139562@297320", "a lighthouse on a cliff at dusk", width=1024, height=1024)


def refiner_percentage(b: WorkflowBuilder) -> None:
    _base(b)
    b.node("refiner", "refiner", model="civitai:101055@128080", startStepPercentage=90)
    b.link("refiner", "refiner", "infer", "refiner")


def controlnet(b: WorkflowBuilder) -> None:
    _base(b)
    b.node("guide", "load_image", imageUUID="56f8916f-1a33-49cb-b67f-2c4f48472563")
    b.node("cn", "controlnet", model="runware:25@1", startStep=1, endStep=10, weight=1.0, controlMode="balanced")
    b.link("guide", "image", "cn", "guide_image")
    b.link("cn", "controlnet", "infer", "controlnets")


def _adapters(kind: str, port: str, items: list[tuple[str, float]]) -> Callable[[WorkflowBuilder], None]:
    def build(b: WorkflowBuilder) -> None:
        _base(b)
        for i, (model, weight) in enumerate(items):
            b.node(f"{kind}{i}", kind, model=model, weight=weight)
            b.link(f"{kind}{i}", kind, "infer", port)

    return build


BUILDERS: dict[str, Callable[[WorkflowBuilder], None]] = {
    "basic": basic,
    "steps": steps,
    "refiner": refiner,
    "refiner-percentage": refiner_percentage,
    "controlnet": controlnet,
    "lora": _adapters("lora", "loras", [("civitai:120096@135931", 1.0)]),
    "lora-weights": _adapters("lora", "loras", [("runware:13090@1", 1.5), ("runware:6638@1", 0.8)]),
    "embeddings": _adapters("embedding", "embeddings", [("civitai:118418@134583", 1.5), ("civitai:98259@539032", 0.8)]),
    "embeddings-weights": _adapters(
        "embedding", "embeddings", [("civitai:1044536@1172007", 1.5), ("civitai:993446@1113094", 0.8)]
    ),
}


def _without_uuid(task: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in task.items() if k != "taskUUID"}


def test_every_golden_file_has_a_graph() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(BUILDERS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_graph_compiles_to_the_documented_request(name: str) -> None:
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    b = WorkflowBuilder(name)
    BUILDERS[name](b)
    tasks = compile_workflow(b.build()).to_api()
    # The serialised array is what goes over the wire: compare after a JSON round trip.
    tasks = json.loads(json.dumps(tasks))
    assert all(set(t) >= {"taskType", "taskUUID"} for t in tasks)
    if "complete" in golden:
        assert [_without_uuid(t) for t in tasks] == [_without_uuid(t) for t in golden["complete"]]
    else:
        (task,) = tasks
        assert {k: task.get(k) for k in golden["fragment"]} == golden["fragment"]
