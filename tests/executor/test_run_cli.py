"""`loomware run`: exit codes 0/1/2/130, messages, --events jsonl, re-running an image, no key in any output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import executor_graphs as g
import pytest
from click.testing import CliRunner
from fake_runware import FakeRunware

from app.cli import main

REPO = Path(__file__).resolve().parents[2]


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["run", *args], env=env, catch_exceptions=False)


@pytest.fixture
def key_env(fake: FakeRunware) -> dict[str, str]:
    return {"RUNWARE_API_KEY": fake.api_key}


def test_exit_0_prints_saved_files(fake: FakeRunware, tmp_path: Path, key_env):
    wf = g.text_to_image().save(tmp_path / "wf.json")
    result = invoke(str(wf), "--backend", fake.url, "--out", str(tmp_path / "out"), env=key_env)
    assert result.exit_code == 0, result.output
    saved = [line for line in result.stdout.splitlines() if line.endswith(".jpg")]
    assert len(saved) == 1 and Path(saved[0]).is_file()
    assert "ok: 1 image(s) saved" in result.stderr
    assert fake.api_key not in result.output


def test_exit_1_when_a_task_fails_with_the_node_named(fake: FakeRunware, tmp_path: Path, key_env):
    wf = g.branches(2, fail={0}).save(tmp_path / "wf.json")
    result = invoke(str(wf), "--backend", fake.url, "--out", str(tmp_path / "out"), env=key_env)
    assert result.exit_code == 1
    assert "node 'infer0'" in result.stderr and "inferenceFailed" in result.stderr


def test_exit_2_for_invalid_workflow_and_usage(fake: FakeRunware, tmp_path: Path, key_env):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert invoke(str(broken), "--backend", fake.url, env=key_env).exit_code == 2
    wf = g.text_to_image().save(tmp_path / "wf.json")
    bad_set = invoke(str(wf), "--set", "nope.steps=3", "--backend", fake.url, env=key_env)
    assert bad_set.exit_code == 2 and "no node 'nope'" in bad_set.stderr
    out_of_range = invoke(str(wf), "--set", "infer.steps=1000", "--backend", fake.url, env=key_env)
    assert out_of_range.exit_code == 2 and "steps" in out_of_range.stderr
    assert invoke(str(wf), "--backend", "ftp://x").exit_code == 2


def test_no_key_for_cloud_says_how_to_set_one(tmp_path: Path):
    wf = g.text_to_image().save(tmp_path / "wf.json")
    result = invoke(str(wf), "--backend", "cloud")
    assert result.exit_code == 2
    assert "no Runware API key" in result.stderr and "RUNWARE_API_KEY" in result.stderr


def test_rejected_key_message(fake: FakeRunware, tmp_path: Path):
    wf = g.text_to_image().save(tmp_path / "wf.json")
    result = invoke(str(wf), "--backend", fake.url, "--out", str(tmp_path / "o"), env={"RUNWARE_API_KEY": "bad"})
    assert result.exit_code == 1
    assert "rejected the API key" in result.stderr


def test_missing_model_message(fake: FakeRunware, tmp_path: Path, key_env):
    graph = g.text_to_image()
    graph.nodes["model"]["params"]["model"] = "civitai:404@404"
    wf = graph.save(tmp_path / "wf.json")
    result = invoke(str(wf), "--backend", fake.url, "--out", str(tmp_path / "o"), env=key_env)
    assert result.exit_code == 1 and "model not found" in result.stderr


def test_events_jsonl_on_stdout(fake: FakeRunware, tmp_path: Path, key_env):
    wf = g.branches(2).save(tmp_path / "wf.json")
    result = invoke(str(wf), "--backend", fake.url, "--out", str(tmp_path / "o"), "--events", "jsonl", env=key_env)
    assert result.exit_code == 0
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    saved = [e for e in events if e["event"] == "image_saved"]
    assert len(saved) == 2 and all(Path(e["path"]).is_file() and e["seed"] for e in saved)


def test_run_an_image_reruns_its_embedded_workflow(fake: FakeRunware, tmp_path: Path, key_env):
    wf = g.text_to_image(outputFormat="PNG").save(tmp_path / "wf.json")
    first = invoke(str(wf), "--backend", fake.url, "--out", str(tmp_path / "a"), env=key_env)
    png = Path(first.stdout.splitlines()[0])
    again = invoke(str(png), "--backend", fake.url, "--out", str(tmp_path / "b"), "--no-cache",
                   "--set", "infer.steps=6", env=key_env)  # fmt: skip
    assert again.exit_code == 0, again.output
    sent = fake.work_tasks()
    assert sent[1]["steps"] == 6 and sent[1]["positivePrompt"] == sent[0]["positivePrompt"]
    assert sent[1]["seed"] == sent[0]["seed"]


def test_image_without_workflow_is_exit_2(tmp_path: Path):
    img = tmp_path / "plain.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n")
    result = invoke(str(img), "--backend", "local")
    assert result.exit_code == 2 and "holds no Loomware workflow" in result.stderr


def test_ctrl_c_exits_130_and_keeps_the_report(fake: FakeRunware, tmp_path: Path):
    fake.latency = 3.0
    wf = g.text_to_image().save(tmp_path / "wf.json")
    env = {**os.environ, "RUNWARE_API_KEY": fake.api_key}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", str(wf), "--backend", fake.url, "--out", str(tmp_path / "o"),
         "--events", "jsonl"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    for line in proc.stdout:  # wait until the request is in flight
        if '"node_started"' in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert '"status": "cancelled"' in out
    reports = list((tmp_path / "o" / "reports").glob("*.json"))
    assert len(reports) == 1 and json.loads(reports[0].read_text())["status"] == "cancelled"
    assert fake.api_key not in out + err
