"""Every example workflow, compiled and run by the executor through the cloud client against `loomware serve`
(the local engine over a real loopback socket), on the demo models. The whole product, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from graph_runtime.backends.local import demo_models as demo
from graph_runtime.backends.local.backend import LocalBackend
from graph_runtime.backends.local.catalog import Catalog
from graph_runtime.backends.local.server import create_app
from graph_runtime.document import load, loads
from graph_runtime.events import Event, EventKind
from graph_runtime.overrides import apply_overrides
from graph_runtime.png_metadata import read_embedded_workflow
from graph_runtime.run import RunOptions, run_workflow
from nodes import REGISTRY
from tests.conftest import WORKFLOWS
from tests.loopback import ServerThread

pytestmark = pytest.mark.local

KEY = "end-to-end-key-not-a-secret"
SMALL = ["infer.width=128", "infer.height=128", "infer.steps=4"]
SD15 = [f"model.model={demo.SD15}", "model.architecture=sd1.5"]

# The examples name cloud models; point each at the demo model of the same kind, at the API's smallest size.
OVERRIDES: dict[str, list[str]] = {
    "text-to-image.json": SD15 + SMALL,
    "lora-stack.json": SD15 + SMALL + [f"pixel_art.model={demo.LORA_1}", f"neon.model={demo.LORA_2}"],
    "embeddings.json": SD15 + SMALL + [f"style.model={demo.EMBEDDING}", f"bad_hands.model={demo.EMBEDDING}"],
    "controlnet-canny.json": SD15 + SMALL + [f"controlnet.model={demo.CONTROLNET}", "controlnet.endStep=3"],
    "sdxl-refiner.json": [
        *SMALL,
        f"model.model={demo.SDXL}",
        f"refiner.model={demo.SDXL_REFINER}",
        "refiner.startStep=3",
    ],
    "image-to-image.json": SD15 + SMALL + ["infer.steps=8", "infer.strength=0.5"],
    "flux-schnell-preview.json": SD15 + SMALL + ["infer.numberResults=2"],
}


@pytest.fixture(scope="module")
def server_url(demo_catalog: Catalog) -> Iterator[str]:
    engine = LocalBackend(demo_catalog, device="cpu", dtype="float32")
    with ServerThread(create_app(engine, api_key=KEY)) as server:
        yield server.url


def test_every_example_has_overrides() -> None:
    assert sorted(OVERRIDES) == sorted(p.name for p in WORKFLOWS.glob("*.json"))


@pytest.mark.parametrize("name", sorted(OVERRIDES))
def test_example_runs_through_the_cloud_client_against_loomware_serve(
    name: str, server_url: str, tmp_path: Path
) -> None:
    workflow = apply_overrides(load(WORKFLOWS / name), OVERRIDES[name], REGISTRY)
    events: list[Event] = []
    options = RunOptions(backend=server_url, api_key=KEY, out_dir=tmp_path, use_cache=False)
    report = asyncio.run(run_workflow(workflow, base_dir=WORKFLOWS, options=options, sink=events.append))

    assert report.status == "ok", report.errors
    images = [Path(p) for p in report.files] + [Path(p) for ps in report.previews.values() for p in ps]
    expected = 2 if name == "flux-schnell-preview.json" else 1
    if name == "controlnet-canny.json":
        expected = 2  # the saved result and the preview of the canny guide
    assert len(images) == expected
    for path in images:
        with Image.open(path) as img:
            assert img.size in {(128, 128), (256, 256)}  # results, and the canny guide of the 256 px input
    finished = {e.node_id for e in events if e.kind is EventKind.NODE_FINISHED}
    assert {n for n in workflow.nodes if n in {"infer", "save", "preview"}} <= finished
    assert events[-1].kind is EventKind.RUN_FINISHED and events[-1].data["status"] == "ok"
    # The API key never lands in an output or the report.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_a_saved_png_re_runs_the_workflow_embedded_in_it(server_url: str, tmp_path: Path) -> None:
    overrides = [*OVERRIDES["text-to-image.json"], "infer.outputFormat=PNG"]
    workflow = apply_overrides(load(WORKFLOWS / "text-to-image.json"), overrides, REGISTRY)
    options = RunOptions(backend=server_url, api_key=KEY, out_dir=tmp_path / "first", use_cache=False)
    first = asyncio.run(run_workflow(workflow, base_dir=WORKFLOWS, options=options))
    (png,) = first.files
    embedded = loads(read_embedded_workflow(Path(png)))
    assert embedded.nodes["model"].params["model"] == demo.SD15
    seed = embedded.nodes["infer"].params["seed"]  # the drawn seed is recorded, so the image reproduces

    again = RunOptions(backend=server_url, api_key=KEY, out_dir=tmp_path / "again", use_cache=False)
    second = asyncio.run(run_workflow(embedded, base_dir=Path(png).parent, options=again))
    assert second.seeds["infer"] == [seed]
    with Image.open(png) as a, Image.open(second.files[0]) as b:
        assert a.tobytes() == b.tobytes()
