"""The compiler: tasks in dependency order, references between them, uploads once, only what leads to an output."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from PIL import Image

from graph_runtime.compile import CompileError, compile_workflow
from graph_runtime.document import load
from graph_runtime.plan import FileRef, Ref, parse_placeholder
from tests.conftest import WORKFLOWS
from tests.test_validate import t2i


def counter_uuids():
    counter = itertools.count(1)
    return lambda: f"00000000-0000-4000-8000-{next(counter):012d}"


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.json")), ids=lambda p: p.name)
def test_every_example_compiles(path: Path) -> None:
    plan = compile_workflow(load(path), base_dir=path.parent)
    api = plan.to_api()
    assert api and all(t["taskType"] and t["taskUUID"] for t in api)
    assert len({t["taskUUID"] for t in api}) == len(api)
    json.dumps(api)  # placeholders are plain strings: the array serialises as is


def test_unset_parameters_are_left_out() -> None:
    (task,) = compile_workflow(t2i().build()).to_api()
    assert set(task) == {"taskType", "taskUUID", "model", "positivePrompt", "width", "height"}


def test_editor_only_parameters_never_reach_the_api() -> None:
    (task,) = compile_workflow(t2i(seed=7, seedAfterRun="increment").build()).to_api()
    assert task["seed"] == 7 and "seedAfterRun" not in task and "architecture" not in json.dumps(task)


def test_controlnet_from_a_local_file_references_the_preprocess_result(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64), "white").save(tmp_path / "ref.png")
    b = t2i()
    b.node("src", "load_image", path="ref.png")
    b.node("pp", "controlnet_preprocess", preProcessorType="canny")
    b.node("cn", "controlnet", model="runware:25@1", weight=0.7)
    b.link("src", "image", "pp", "image")
    b.link("pp", "guide", "cn", "guide_image")
    b.link("cn", "controlnet", "infer", "controlnets")
    plan = compile_workflow(b.build(), base_dir=tmp_path, new_uuid=counter_uuids())
    upload, pre, infer = plan.to_api()
    assert upload == {
        "taskType": "imageUpload",
        "taskUUID": upload["taskUUID"],
        "image": "{{file:" + str((tmp_path / "ref.png").resolve()) + "}}",
    }
    assert pre["inputImage"] == "{{" + upload["taskUUID"] + ".imageUUID}}"
    assert pre["preProcessorType"] == "canny" and "lowThresholdCanny" not in pre
    assert infer["controlNet"] == [
        {"model": "runware:25@1", "guideImage": "{{" + pre["taskUUID"] + ".guideImageUUID}}", "weight": 0.7}
    ]
    assert [t.deps for t in plan.tasks] == [[], [upload["taskUUID"]], [pre["taskUUID"]]]
    assert [t.node_id for t in plan.tasks] == ["src", "pp", "infer"]


def test_one_file_used_twice_is_uploaded_once(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64)).save(tmp_path / "a.png")
    b = t2i(strength=0.5)
    b.node("src1", "load_image", path="a.png")
    b.node("src2", "load_image", path=str(tmp_path / "a.png"))  # the same file, by another path
    b.link("src1", "image", "infer", "seed_image")
    b.link("src2", "image", "infer", "mask_image")
    plan = compile_workflow(b.build(), base_dir=tmp_path)
    uploads = [t for t in plan.tasks if t.task_type == "imageUpload"]
    assert len(uploads) == 1
    infer = plan.tasks[-1].payload
    assert infer["seedImage"] == infer["maskImage"] == Ref(uploads[0].uuid, "imageUUID")
    assert uploads[0].files == [str((tmp_path / "a.png").resolve())]


def test_an_inference_image_feeds_another_as_seed_image() -> None:
    b = t2i(numberResults=2)
    b.node("second", "image_inference", width=512, height=512, strength=0.4)
    b.link("model", "model", "second", "model")
    b.link("prompt", "text", "second", "positive")
    b.link("infer", "image", "second", "seed_image")
    b.node("save2", "save_image")
    b.link("second", "image", "save2", "image")
    plan = compile_workflow(b.build())
    first, second = plan.tasks
    assert second.payload["seedImage"] == Ref(first.uuid, "imageUUID")
    assert second.payload["strength"] == 0.4
    assert [o.node_id for o in plan.outputs] == ["save", "save2"]
    assert plan.outputs[0].image == Ref(first.uuid, "imageUUID")


def test_only_nodes_leading_to_an_output_are_compiled() -> None:
    b = t2i()
    b.node("orphan", "image_inference", width=512, height=512)
    b.link("model", "model", "orphan", "model")
    b.link("prompt", "text", "orphan", "positive")
    plan = compile_workflow(b.build())
    assert [t.node_id for t in plan.tasks] == ["infer"]


def test_list_inputs_keep_link_order() -> None:
    b = t2i()
    for name, weight in (("a", 0.5), ("b", -1.0), ("c", 2.0)):
        b.node(name, "lora", model=f"civitai:1@{name}", weight=weight)
    for name in ("c", "a", "b"):
        b.link(name, "lora", "infer", "loras")
    (task,) = compile_workflow(b.build()).to_api()
    assert [entry["model"] for entry in task["lora"]] == ["civitai:1@c", "civitai:1@a", "civitai:1@b"]


def test_a_workflow_with_errors_does_not_compile() -> None:
    with pytest.raises(CompileError) as info:
        compile_workflow(t2i(width=100, steps=0).build())
    assert {(d.field, d.code) for d in info.value.diagnostics} == {
        ("width", "value_out_of_range"),
        ("steps", "value_out_of_range"),
    }
    assert "node 'infer'" in str(info.value)


def test_placeholders_parse_back() -> None:
    ref = Ref("00000000-0000-4000-8000-000000000001", "guideImageUUID")
    assert parse_placeholder(ref.placeholder) == ref
    assert parse_placeholder(FileRef("/tmp/a b.png").placeholder) == FileRef("/tmp/a b.png")
    assert parse_placeholder("a plain prompt") is None


def test_full_plan_lists_outputs_and_dependencies() -> None:
    plan = compile_workflow(load(WORKFLOWS / "flux-schnell-preview.json"))
    data = plan.to_dict()
    (task,) = data["tasks"]
    assert task["node"] == "infer" and task["dependsOn"] == [] and task["task"]["numberResults"] == 4
    assert data["outputs"] == [
        {
            "node": "preview",
            "kind": "preview",
            "image": "{{" + task["task"]["taskUUID"] + ".imageUUID}}",
            "title": "Preview Image",
        }
    ]
