"""The model catalogue and `loomware models` (through click's CliRunner)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.commands.models import models_group
from graph_runtime.backends.local.catalog import Catalog, CatalogError

pytestmark = pytest.mark.local


def test_importing_the_engine_does_not_import_torch() -> None:
    code = (
        "import sys\nimport graph_runtime.backends.local as local\n"
        "from graph_runtime.backends.local.backend import LocalBackend\n"
        "from graph_runtime.backends.local.catalog import Catalog\n"
        "import app.commands.models, app.commands.serve\n"
        "assert local.LocalBackend is LocalBackend\n"
        "print('torch' in sys.modules, 'diffusers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_resolve_names_the_missing_air_and_how_to_add_it(demo_catalog: Catalog) -> None:
    with pytest.raises(CatalogError) as info:
        demo_catalog.resolve("civitai:4384@128713", "checkpoint")
    assert "civitai:4384@128713" in str(info.value) and "loomware models add" in str(info.value)
    with pytest.raises(CatalogError, match="is a lora"):
        demo_catalog.resolve("loomware:lora-demo@1", "checkpoint")


def test_missing_lists_every_absent_model_before_running(demo_catalog: Catalog) -> None:
    tasks = [
        {
            "taskType": "imageInference",
            "taskUUID": "t1",
            "model": "loomware:sd15-demo@1",
            "lora": [{"model": "loomware:lora-demo@1"}, {"model": "civitai:1@1"}],
            "controlNet": [{"model": "runware:25@1", "guideImage": "x"}],
        },
        {"taskType": "imageUpload", "taskUUID": "t2", "image": "x"},
    ]
    missing = demo_catalog.missing(tasks)
    assert [(m.task_uuid, m.field, m.air, m.kind) for m in missing] == [
        ("t1", "lora[1].model", "civitai:1@1", "lora"),
        ("t1", "controlNet[0].model", "runware:25@1", "controlnet"),
    ]


def test_paths_escaping_the_catalogue_are_refused(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "models")
    catalog.ensure_layout()
    outside = tmp_path / "secret.safetensors"
    outside.write_bytes(b"x")
    index = {
        "version": 1,
        "models": {
            "a:b@1": {"kind": "lora", "architecture": "sd1.5", "path": "../secret.safetensors", "format": "safetensors"}
        },
    }
    catalog.index_path.write_text(json.dumps(index))
    with pytest.raises(CatalogError, match="leaves the models folder"):
        catalog.resolve("a:b@1", "lora")
    for bad in ("/etc/passwd", ""):
        with pytest.raises(CatalogError):
            catalog.confine(bad)


def test_models_cli_add_list_scan_remove_init_demo(tmp_path: Path, demo_catalog: Catalog) -> None:
    runner = CliRunner()
    root = tmp_path / "models"

    def cli(*args: str) -> str:
        result = runner.invoke(models_group, ["--models-dir", str(root), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert "no models yet" in cli("list")
    lora = demo_catalog.root / "loras" / "lora-demo-1.safetensors"
    assert "added my:lora@1: lora, sd1.5" in cli("add", "my:lora@1", "lora", str(lora))
    assert (root / "loras" / "lora-demo-1.safetensors").is_file()
    vae = demo_catalog.root / "vae" / "vae-demo"
    cli("add", "my:vae@1", "vae", str(vae), "--architecture", "sd1.5", "--link")
    assert (root / "vae" / "vae-demo").is_symlink()
    out = cli("list")
    assert "my:lora@1" in out and "my:vae@1" in out
    # A model dropped in by hand is found by scan.
    (root / "embeddings").mkdir(exist_ok=True)
    (root / "embeddings" / "Bad Hands.safetensors").write_bytes(
        (demo_catalog.root / "embeddings" / "embedding-demo.safetensors").read_bytes()
    )
    assert "local:bad-hands@1" in cli("scan")
    assert "0 new" in cli("scan")
    cli("remove", "my:vae@1", "--delete-files")
    assert not (root / "vae" / "vae-demo").exists() and vae.exists()  # the link went, never its target
    bad = runner.invoke(models_group, ["--models-dir", str(root), "add", "nope", "lora", str(lora)])
    assert bad.exit_code != 0 and "not an AIR id" in bad.output
    single = runner.invoke(models_group, ["--models-dir", str(root), "add", "x:y@1", "checkpoint", str(lora)])
    assert single.exit_code != 0 and "diffusers folder" in single.output
    out = cli("init-demo")
    assert "loomware:sdxl-refiner-demo@1" in out and "noise" in out
    index = json.loads((root / "index.json").read_text())
    assert {"loomware:sd15-demo@1", "loomware:controlnet-demo@1", "my:lora@1"} <= set(index["models"])
