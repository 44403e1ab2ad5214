"""Validation returns every diagnostic at once, per node and field, with stable codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph_runtime.builder import WorkflowBuilder
from graph_runtime.validate import Diagnostic, validate
from tests.conftest import WORKFLOWS


def t2i(arch: str | None = "sd1.5", **infer: Any) -> WorkflowBuilder:
    b = WorkflowBuilder()
    model_params = {"model": "civitai:4384@128713"} | ({"architecture": arch} if arch else {})
    b.node("model", "model", **model_params)
    b.node("prompt", "prompt", text="a red fox in the snow")
    b.node("infer", "image_inference", **({"width": 512, "height": 512} | infer))
    b.node("save", "save_image")
    b.link("model", "model", "infer", "model")
    b.link("prompt", "text", "infer", "positive")
    b.link("infer", "image", "save", "image")
    return b


def codes(b: WorkflowBuilder, base_dir: Path | str = ".") -> set[tuple[str | None, str | None, str, str]]:
    return {(d.node_id, d.field, d.code, d.severity) for d in validate(b.build(), base_dir=base_dir)}


def test_a_clean_graph_has_no_diagnostics() -> None:
    assert validate(t2i(steps=30).build()) == []


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.json")), ids=lambda p: p.name)
def test_examples_have_no_errors(path: Path) -> None:
    from graph_runtime.document import load

    assert [d for d in validate(load(path), base_dir=path.parent) if d.severity == "error"] == []


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"width": 100}, "width", "value_out_of_range"),
        ({"width": 4096}, "width", "value_out_of_range"),
        ({"height": 520}, "height", "not_multiple_of"),
        ({"steps": 0}, "steps", "value_out_of_range"),
        ({"steps": 101}, "steps", "value_out_of_range"),
        ({"steps": 20.5}, "steps", "invalid_type"),
        ({"CFGScale": 50.5}, "CFGScale", "value_out_of_range"),
        ({"CFGScale": "high"}, "CFGScale", "invalid_type"),
        ({"clipSkip": 3}, "clipSkip", "value_out_of_range"),
        ({"seed": 0}, "seed", "value_out_of_range"),
        ({"seed": 2**63}, "seed", "value_out_of_range"),
        ({"scheduler": "Euler b"}, "scheduler", "value_not_in_list"),
        ({"outputFormat": "GIF"}, "outputFormat", "value_not_in_list"),
        ({"outputQuality": 10}, "outputQuality", "value_out_of_range"),
    ],
)
def test_values_outside_the_spec_are_errors(params: dict, field: str, code: str) -> None:
    found = [d for d in validate(t2i(**params).build()) if d.severity == "error"]
    assert [(d.node_id, d.field, d.code) for d in found] == [("infer", field, code)]


def test_error_messages_name_the_allowed_values() -> None:
    (d,) = validate(t2i(scheduler="Euler b").build())
    assert "Euler a" in d.message and "DPM++ 2M Karras" in d.message
    (d,) = validate(t2i(width=100).build())
    assert "128..2048" in d.message and d.node_type == "image_inference"
    assert str(d).startswith("error: node 'infer' (image_inference), field 'width'")


def test_seed_bounds_are_inclusive() -> None:
    assert validate(t2i(seed=1).build()) == []
    assert validate(t2i(seed=2**63 - 1).build()) == []


def test_prompt_length_and_blank_token() -> None:
    b = t2i()
    b.workflow.nodes["prompt"].params["text"] = "a"
    assert ("prompt", "text", "length_out_of_range", "error") in codes(b)
    b.workflow.nodes["prompt"].params["text"] = "x" * 3001
    assert ("prompt", "text", "length_out_of_range", "error") in codes(b)
    b.workflow.nodes["prompt"].params["text"] = "__BLANK__"
    assert codes(b) == set()


def test_missing_inputs_and_params() -> None:
    b = WorkflowBuilder()
    b.node("infer", "image_inference")
    b.node("save", "save_image")
    b.node("m", "model")
    b.link("infer", "image", "save", "image")
    found = codes(b)
    assert ("infer", "positive", "required_input_missing", "error") in found
    assert ("infer", "model", "required_input_missing", "error") in found
    assert ("infer", "width", "required_param_missing", "error") in found
    assert ("m", "model", "required_param_missing", "error") in found
    assert ("m", None, "not_used", "warning") in found


def test_type_mismatch_duplicate_links_and_too_many_links() -> None:
    b = t2i()
    b.node("neg", "prompt", text="blurry")
    b.link("neg", "text", "infer", "model")  # TEXT into MODEL, and a second link into a single input
    b.link("prompt", "text", "infer", "positive")  # the same link twice
    found = codes(b)
    assert ("infer", "model", "type_mismatch", "error") in found
    assert ("infer", "model", "too_many_links", "error") in found
    assert ("infer", "positive", "duplicate_link", "error") in found


def test_cycles_are_reported_on_every_node_in_them() -> None:
    b = t2i()
    b.node("infer2", "image_inference", width=512, height=512)
    b.link("infer", "image", "infer2", "seed_image")
    b.link("infer2", "image", "infer", "seed_image")
    cyc = {d.node_id for d in validate(b.build()) if d.code == "cycle"}
    assert cyc == {"infer", "infer2"}


def test_no_output_node_is_an_error() -> None:
    b = WorkflowBuilder()
    b.node("prompt", "prompt", text="hello there")
    assert codes(b) == {(None, None, "no_output", "error")}


def test_controlnet_windows() -> None:
    b = t2i(steps=30)
    b.node("guide", "load_image", imageUUID="56f8916f-1a33-49cb-b67f-2c4f48472563")
    b.node("cn", "controlnet", model="runware:25@1", startStep=10, endStep=5)
    b.link("guide", "image", "cn", "guide_image")
    b.link("cn", "controlnet", "infer", "controlnets")
    assert ("cn", "endStep", "invalid_window", "error") in codes(b)

    b.workflow.nodes["cn"].params = {"model": "runware:25@1", "startStep": 5, "endStep": 40}
    found = [d for d in validate(b.build()) if d.code == "value_out_of_range"]
    assert [(d.node_id, d.field) for d in found] == [("cn", "endStep")]
    assert "past the 30 steps of inference 'infer'" in found[0].message

    b.workflow.nodes["cn"].params = {"model": "runware:25@1", "startStep": 5, "startStepPercentage": 10}
    assert ("cn", "startStep", "exclusive_fields", "error") in codes(b)

    b.workflow.nodes["cn"].params = {"model": "runware:25@1", "startStepPercentage": 50, "endStepPercentage": 50}
    assert ("cn", "endStepPercentage", "invalid_window", "error") in codes(b)

    b.workflow.nodes["cn"].params = {"model": "runware:25@1", "weight": 1.5, "controlMode": "both"}
    found = codes(b)
    assert ("cn", "weight", "value_out_of_range", "error") in found
    assert ("cn", "controlMode", "value_not_in_list", "error") in found


def test_refiner_rules() -> None:
    b = t2i(arch="sdxl", steps=30)
    b.node("ref", "refiner", model="civitai:101055@128080", startStep=31)
    b.link("ref", "refiner", "infer", "refiner")
    assert ("ref", "startStep", "value_out_of_range", "error") in codes(b)
    b.workflow.nodes["ref"].params = {"model": "civitai:101055@128080", "startStep": 1}
    assert ("ref", "startStep", "value_out_of_range", "error") in codes(b)
    b.workflow.nodes["ref"].params = {"model": "civitai:101055@128080", "startStepPercentage": 100}
    assert ("ref", "startStepPercentage", "value_out_of_range", "error") in codes(b)
    b.workflow.nodes["ref"].params = {"model": "civitai:101055@128080"}
    assert ("ref", "startStep", "required_param_missing", "error") in codes(b)
    b.workflow.nodes["ref"].params = {"model": "civitai:101055@128080", "startStep": 28}
    assert codes(b) == set()


def test_architecture_warnings() -> None:
    assert ("infer", "steps", "steps_outside_recommended", "warning") in codes(t2i(arch="flux-schnell", steps=30))
    assert codes(t2i(arch="flux-schnell", steps=4)) == set()
    assert ("infer", "clipSkip", "clip_skip_ignored", "warning") in codes(t2i(arch="flux-dev", clipSkip=1))

    b = t2i(arch="flux-dev")
    b.node("neg", "prompt", text="blurry")
    b.link("neg", "text", "infer", "negative")
    assert ("infer", "negative", "negative_prompt_ignored", "warning") in codes(b)

    b = t2i(arch="sd1.5")
    b.node("ref", "refiner", model="civitai:101055@128080", startStepPercentage=90)
    b.link("ref", "refiner", "infer", "refiner")
    assert ("infer", "refiner", "refiner_not_sdxl", "warning") in codes(b)
    # An unknown architecture gives no architecture warnings at all.
    assert codes(t2i(arch=None, steps=100, clipSkip=2)) == set()


def test_image_to_image_rules(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (64, 64)).save(tmp_path / "in.png")
    b = t2i(steps=20, strength=0.2)
    b.node("src", "load_image", path="in.png")
    b.link("src", "image", "infer", "seed_image")
    (d,) = validate(b.build(), base_dir=tmp_path)
    assert (d.field, d.code, d.severity) == ("strength", "few_img2img_steps", "warning")
    assert "only 4 of 20 steps" in d.message

    b.workflow.nodes["infer"].params["strength"] = 0.5
    assert codes(b, tmp_path) == set()

    b = t2i(strength=0.5)
    b.node("mask", "load_image", path="in.png")
    b.link("mask", "image", "infer", "mask_image")
    found = codes(b, tmp_path)
    assert ("infer", "seed_image", "required_input_missing", "error") in found
    assert ("infer", "strength", "unused_parameter", "warning") in found


def test_load_image_sources(tmp_path: Path) -> None:
    b = t2i()
    b.node("src", "load_image")
    b.link("src", "image", "infer", "seed_image")
    assert ("src", "path", "image_source", "error") in codes(b, tmp_path)
    b.workflow.nodes["src"].params = {"path": "missing.png"}
    assert ("src", "path", "file_not_found", "error") in codes(b, tmp_path)
    b.workflow.nodes["src"].params = {"url": "ftp://example.com/a.png"}
    assert ("src", "url", "invalid_url", "error") in codes(b, tmp_path)
    b.workflow.nodes["src"].params = {"imageUUID": "not-a-uuid"}
    assert ("src", "imageUUID", "invalid_uuid", "error") in codes(b, tmp_path)
    b.workflow.nodes["src"].params = {"url": "https://example.com/a.png", "imageUUID": "x"}
    assert ("src", "url", "image_source", "error") in codes(b, tmp_path)


def test_preprocessor_and_save_rules() -> None:
    b = t2i()
    b.node("src", "load_image", url="https://example.com/a.png")
    b.node("pp", "controlnet_preprocess", preProcessorType="depth", lowThresholdCanny=50)
    b.node("cn", "controlnet", model="runware:27@1")
    b.link("src", "image", "pp", "image")
    b.link("pp", "guide", "cn", "guide_image")
    b.link("cn", "controlnet", "infer", "controlnets")
    assert ("pp", "lowThresholdCanny", "unused_parameter", "warning") in codes(b)
    b.workflow.nodes["pp"].params = {"preProcessorType": "canny", "lowThresholdCanny": 220}
    assert ("pp", "lowThresholdCanny", "invalid_window", "error") in codes(b)
    b.workflow.nodes["pp"].params = {"preProcessorType": "sketch"}
    assert ("pp", "preProcessorType", "value_not_in_list", "error") in codes(b)

    b.workflow.nodes["save"].params = {"filename": "{workflow}-{colour}", "folder": "../escape"}
    found = codes(b)
    assert ("save", "filename", "invalid_pattern", "error") in found
    assert ("save", "folder", "invalid_folder", "error") in found


def test_invalid_air_ids() -> None:
    b = t2i()
    b.workflow.nodes["model"].params["model"] = "stable diffusion 1.5"
    (d,) = validate(b.build())
    assert (d.node_id, d.field, d.code) == ("model", "model", "invalid_air")


def test_every_diagnostic_is_complete() -> None:
    b = t2i(width=100, steps=0)
    for d in validate(b.build()):
        assert isinstance(d, Diagnostic)
        assert set(d.to_dict()) == {"node_id", "node_type", "field", "code", "severity", "message"}
        assert d.message and d.code
