"""The workflow file: exact round trips, atomic saves, and one clear message per problem in a bad file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from graph_runtime.document import Workflow, dumps, load, loads, save
from graph_runtime.migrations import Migration
from graph_runtime.problems import WorkflowLoadError
from tests.conftest import WORKFLOWS

EXAMPLES = sorted(WORKFLOWS.glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_load_then_save_gives_the_same_bytes(path: Path, tmp_path: Path) -> None:
    original = path.read_bytes()
    workflow = load(path)
    out = save(workflow, tmp_path / path.name)
    assert out.read_bytes() == original


def test_round_trip_keeps_groups_notes_titles_and_timestamps(tmp_path: Path) -> None:
    data = json.loads((WORKFLOWS / "text-to-image.json").read_text())
    data["nodes"]["infer"].update(title="Main render", color="#336699", collapsed=True)
    data["groups"] = [{"id": "g1", "title": "Generation", "rect": [-20.0, -40.0, 900.0, 400.0]}]
    data["notes"] = [{"id": "n1", "text": "Try 40 steps", "position": [10.0, 500.0], "width": 200.0}]
    data["metadata"]["created"] = "2026-11-01T10:00:00Z"
    data["metadata"]["modified"] = "2026-11-02T11:30:00Z"
    text = dumps(loads(json.dumps(data)))
    assert dumps(loads(text)) == text
    again = json.loads(text)
    assert again["nodes"]["infer"]["title"] == "Main render"
    assert again["groups"][0]["rect"] == [-20.0, -40.0, 900.0, 400.0]
    assert again["metadata"]["modified"] == "2026-11-02T11:30:00Z"


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "wf.json"
    target.write_text("previous contents")
    workflow = load(WORKFLOWS / "text-to-image.json")
    save(workflow, target)
    assert os.listdir(tmp_path) == ["wf.json"]
    assert loads(target.read_bytes()) == workflow


def test_a_failed_save_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "wf.json"
    target.write_text("previous contents")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save(Workflow(), target)
    assert target.read_text() == "previous contents"
    assert os.listdir(tmp_path) == ["wf.json"]


def _problems(text: str) -> list[str]:
    with pytest.raises(WorkflowLoadError) as info:
        loads(text)
    return [str(p) for p in info.value.problems]


def _example() -> dict:
    return json.loads((WORKFLOWS / "text-to-image.json").read_text())


def test_bad_json_names_line_and_column() -> None:
    (msg,) = _problems('{"schema_version": 1,\n  "nodes": {,}}')
    assert "not valid JSON" in msg and "line 2" in msg


def test_unknown_node_type_is_named_with_a_suggestion() -> None:
    data = _example()
    data["nodes"]["infer"]["type"] = "image_inferense"
    (msg,) = _problems(json.dumps(data))
    assert "node 'infer'" in msg and "field 'type'" in msg and "did you mean 'image_inference'" in msg


def test_missing_fields_and_wrong_types_are_each_reported() -> None:
    data = _example()
    del data["nodes"]["model"]["type"]
    data["nodes"]["prompt"]["position"] = "top left"
    data["links"][0]["to"] = {"node": "infer"}
    msgs = _problems(json.dumps(data))
    assert any("node 'model'" in m and "'type'" in m and "missing" in m for m in msgs)
    assert any("node 'prompt'" in m and "position" in m for m in msgs)
    assert any("links[0] (id 'model-infer').to.input" in m and "missing" in m for m in msgs)


def test_links_to_missing_nodes_or_ports_are_reported() -> None:
    data = _example()
    data["links"][0]["from"]["node"] = "ghost"
    data["links"][1]["to"]["input"] = "posittive"
    msgs = _problems(json.dumps(data))
    assert any("'ghost', which does not exist" in m for m in msgs)
    assert any("no input 'posittive'" in m and "positive" in m for m in msgs)


def test_duplicate_node_and_link_ids_are_reported() -> None:
    text = (WORKFLOWS / "text-to-image.json").read_text()
    model_block = text[text.index('    "model": {') : text.index('    "prompt": {')]
    doubled = text.replace(model_block, model_block + model_block, 1)
    (msg,) = _problems(doubled)
    assert "node 'model'" in msg and "more than one node" in msg

    data = _example()
    data["links"][1]["id"] = data["links"][0]["id"]
    (msg,) = _problems(json.dumps(data))
    assert "link id 'model-infer' is used by 2 links" in msg


def test_a_file_from_a_newer_loomware_says_so() -> None:
    data = _example()
    data["schema_version"] = 99
    (msg,) = _problems(json.dumps(data))
    assert "newer Loomware" in msg and "Update Loomware" in msg


def test_unknown_parameters_do_not_stop_loading_but_fail_validation() -> None:
    from graph_runtime.validate import validate

    data = _example()
    data["nodes"]["infer"]["params"]["stepz"] = 10
    workflow = loads(json.dumps(data))
    (diag,) = [d for d in validate(workflow) if d.code == "unknown_parameter"]
    assert diag.node_id == "infer" and "did you mean 'steps'" in diag.message


def test_migrations_run_in_order_before_validation() -> None:
    def v1_to_v2(data: dict) -> dict:  # a made-up older format: links as 4-element lists
        data["links"] = [
            {"id": f"l{i}", "from": {"node": a, "output": b}, "to": {"node": c, "input": d}}
            for i, (a, b, c, d) in enumerate(data["links"])
        ]
        return data

    def v2_to_v3(data: dict) -> dict:  # ... and metadata under "info"
        data["metadata"] = data.pop("info")
        return data

    chain = [Migration(1, "links become objects", v1_to_v2), Migration(2, "info -> metadata", v2_to_v3)]
    old = {
        "schema_version": 1,
        "info": {"name": "old"},
        "nodes": _example()["nodes"],
        "links": [["model", "model", "infer", "model"], ["prompt", "text", "infer", "positive"]],
    }
    workflow = loads(json.dumps(old), migrations=chain)
    assert workflow.metadata.name == "old"
    assert [link.id for link in workflow.links] == ["l0", "l1"]
    assert workflow.links[1].to.input == "positive"


def test_every_problem_is_reported_at_once() -> None:
    data = _example()
    data["nodes"]["model"]["position"] = [1]  # malformed node
    data["nodes"]["infer"]["type"] = "image_infrence"  # unknown type
    data["nodes"]["bad id!"] = {"type": "prompt"}
    data["links"][2]["to"]["input"] = "img"  # into save_image, which has only "image"
    msgs = _problems(json.dumps(data))
    assert len(msgs) == 4
    assert any("node 'model'" in m and "position" in m for m in msgs)
    assert any("node 'bad id!'" in m and "letters, digits" in m for m in msgs)
    assert any("did you mean 'image_inference'" in m for m in msgs)
    # The link into the malformed node is not reported as dangling: that node exists, it is just malformed.
    assert not any("does not exist" in m for m in msgs)
