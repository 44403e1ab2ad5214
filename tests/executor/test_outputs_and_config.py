"""PNG metadata, file naming, settings and the API key lookup, and the backend factory."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from fake_runware import tiny_image
from PIL import Image

from graph_runtime import config
from graph_runtime.backends.factory import BackendSpecError, MissingApiKeyError, make_backend
from graph_runtime.backends.runware import DEFAULT_ENDPOINT, RunwareBackend
from graph_runtime.outputs import OutputWriter, redact_task, sniff_ext
from graph_runtime.plan import PlannedOutput
from graph_runtime.png_metadata import (
    TASK_KEY,
    WORKFLOW_KEY,
    embed_png_text,
    read_embedded_workflow,
    read_png_text,
)


def test_png_text_round_trip_keeps_pixels_and_replaces_old_entries():
    png = tiny_image(3, "PNG")
    once = embed_png_text(png, {WORKFLOW_KEY: '{"a": "ü"}', TASK_KEY: "{}"})
    twice = embed_png_text(once, {WORKFLOW_KEY: '{"b": 2}'})
    assert read_png_text(twice) == {WORKFLOW_KEY: '{"b": 2}', TASK_KEY: "{}"}
    assert Image.open(io.BytesIO(twice)).tobytes() == Image.open(io.BytesIO(png)).tobytes()
    assert Image.open(io.BytesIO(twice)).text[WORKFLOW_KEY] == '{"b": 2}'  # Pillow reads it too


def test_writer_never_overwrites_and_writes_sidecars(tmp_path: Path):
    from datetime import datetime

    writer = OutputWriter(tmp_path, "run1", workflow_name="My Flow", workflow_text='{"x": 1}\n',
                          started=datetime(2025, 1, 2, 3, 4, 5))  # fmt: skip
    out = PlannedOutput("save", "save", "ignored", {"folder": "f", "filename": "{workflow}_{date}_{time}_{seed}"})
    task = {"taskType": "imageInference", "seedImage": "data:image/png;base64," + "A" * 500}
    a = writer.write(out, 0, tiny_image(1, "JPG"), seed=5, task=task)
    b = writer.write(out, 0, tiny_image(1, "JPG"), seed=5, task=task)
    assert a.name == "My_Flow_2025-01-02_030405_5.jpg" and b.name == "My_Flow_2025-01-02_030405_5-1.jpg"
    side = json.loads(Path(str(a) + ".json").read_text())
    assert side[WORKFLOW_KEY] == {"x": 1} and "characters" in side[TASK_KEY]["seedImage"]
    assert read_embedded_workflow(a) is not None
    preview = writer.write(PlannedOutput("peek", "preview", "x"), 2, tiny_image(1, "WEBP"), seed=None, task=None)
    assert preview == tmp_path / ".previews" / "run1" / "peek-2.webp"


def test_sniff_and_redact():
    assert [sniff_ext(tiny_image(1, f)) for f in ("PNG", "JPG", "WEBP")] == ["png", "jpg", "webp"]
    assert redact_task({"a": ["data:" + "x" * 300]})["a"][0].endswith("characters)")


def test_settings_round_trip_keeps_unknown_keys(tmp_path: Path):
    path = config.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"future_option": 1}))
    settings = config.load_settings()
    assert settings.default_backend == "local"
    settings.default_backend = "cloud"
    settings.default_save_format = "PNG"
    config.save_settings(settings)
    assert config.load_settings().default_backend == "cloud"
    assert json.loads(path.read_text())["future_option"] == 1
    settings.default_backend = "ftp://nope"
    with pytest.raises(config.ConfigError):
        config.save_settings(settings)


def test_api_key_lookup_order(monkeypatch: pytest.MonkeyPatch):
    assert config.get_api_key() is None
    with pytest.raises(config.ConfigError):  # the null keyring cannot store anything
        config.set_api_key("kr-key")
    assert config.set_api_key("file-key", store="file") == "file"
    assert config.get_api_key() == "file-key"
    assert stat.S_IMODE(config.settings_path().stat().st_mode) == 0o600
    assert "api_key" not in vars(config.load_settings())
    monkeypatch.setenv("RUNWARE_API_KEY", "env-key")
    assert config.get_api_key() == "env-key"
    config.set_api_key(None, store="file")
    monkeypatch.delenv("RUNWARE_API_KEY")
    assert config.get_api_key() is None


async def test_make_backend():
    with pytest.raises(MissingApiKeyError, match="RUNWARE_API_KEY"):
        make_backend("cloud", api_key=None)
    with pytest.raises(BackendSpecError, match="unknown backend"):
        make_backend("gpu-farm", api_key="k")
    cloud = make_backend("cloud", api_key="secret")
    assert isinstance(cloud, RunwareBackend) and cloud.endpoint == DEFAULT_ENDPOINT and cloud.name == "cloud"
    assert "secret" not in repr(cloud)
    url = make_backend("http://127.0.0.1:8188/", api_key=None)
    assert url.name == "http://127.0.0.1:8188"
    await cloud.aclose()
    await url.aclose()
