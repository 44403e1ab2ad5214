"""The headless commands: validate, compile, nodes, schema; exit codes, --set, and no heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.conftest import ROOT, WORKFLOWS

T2I = str(WORKFLOWS / "text-to-image.json")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_exit_codes(tmp_path: Path) -> None:
    assert invoke("validate", T2I).exit_code == 0

    bad = tmp_path / "bad.json"
    data = json.loads(Path(T2I).read_text())
    data["nodes"]["infer"]["params"]["width"] = 1000
    bad.write_text(json.dumps(data))
    result = invoke("validate", str(bad))
    assert result.exit_code == 1
    assert "node 'infer' (image_inference), field 'width'" in result.output

    broken = tmp_path / "broken.json"
    broken.write_text("{ nope")
    result = invoke("validate", str(broken))
    assert result.exit_code == 2
    assert "not valid JSON" in result.output and "Traceback" not in result.output

    assert invoke("validate", str(tmp_path / "absent.json")).exit_code == 2


def test_validate_json_output() -> None:
    result = invoke("validate", "--json", str(WORKFLOWS / "sdxl-refiner.json"))
    (diag,) = json.loads(result.stdout)
    assert diag["code"] == "steps_outside_recommended" and diag["severity"] == "warning"
    assert result.exit_code == 0


def test_compile_prints_the_api_array_and_applies_set() -> None:
    result = invoke("compile", T2I, "--set", "infer.steps=12", "--set", 'prompt.text="a quiet harbour"',
                    "--set", "infer.seed=5")  # fmt: skip
    assert result.exit_code == 0
    (task,) = json.loads(result.stdout)
    assert task["steps"] == 12 and task["seed"] == 5 and task["positivePrompt"] == "a quiet harbour"


def test_set_errors_name_the_node_and_the_parameters() -> None:
    result = invoke("compile", T2I, "--set", "infer.stepz=3")
    assert result.exit_code == 2
    assert "no parameter 'stepz'" in result.output and "steps" in result.output
    assert "no node 'ghost'" in invoke("compile", T2I, "--set", "ghost.steps=3").output
    assert "expected NODE.FIELD=VALUE" in invoke("compile", T2I, "--set", "steps").output


def test_compile_refuses_an_invalid_workflow() -> None:
    result = invoke("compile", T2I, "--set", "infer.steps=500")
    assert result.exit_code == 2
    assert "field 'steps'" in result.output and "1..100" in result.output


def test_compile_plan_shows_dependencies() -> None:
    result = invoke("compile", "--plan", str(WORKFLOWS / "controlnet-canny.json"))
    plan = json.loads(result.stdout)
    assert [t["node"] for t in plan["tasks"]] == ["source", "canny", "infer"]
    assert {o["kind"] for o in plan["outputs"]} == {"save", "preview"}


def test_nodes_lists_every_type_with_ranges() -> None:
    from nodes import REGISTRY

    text = invoke("nodes").output
    for node_type in REGISTRY:
        assert node_type.id in text
    assert "width: int; required; 128..2048, multiple of 64" in text
    data = json.loads(invoke("nodes", "--json").output)
    infer = next(n for n in data if n["id"] == "image_inference")
    assert {"name": "loras", "type": "LORA", "required": False, "many": True} in infer["inputs"]


def test_schema_describes_every_node_type() -> None:
    schema = json.loads(invoke("schema").output)
    node = schema["$defs"]["Node"]
    variants = {v["properties"]["type"]["const"]: v for v in node["oneOf"]}
    width = variants["image_inference"]["properties"]["params"]["properties"]["width"]
    assert width == {**width, "minimum": 128, "maximum": 2048, "multipleOf": 64, "type": "integer"}
    assert "from" in schema["$defs"]["Link"]["properties"]


@pytest.mark.parametrize("command", [["compile", T2I], ["validate", T2I], ["nodes"], ["schema"]])
def test_headless_commands_never_import_qt_or_torch(command: list[str]) -> None:
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['loomware', *{command!r}]\n"
        "try:\n    runpy.run_module('app.cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'torch', 'diffusers', 'transformers'})\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False)
    assert "HEAVY []" in done.stderr, done.stderr
