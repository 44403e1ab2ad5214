"""The editor running an example on the real local engine (diffusers, CPU) with the tiny demo models: the same
path a person takes with "Local engine on this computer" in Settings. Its screenshot is the README's picture."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from graph_runtime import config
from tests.editor.conftest import WORKFLOWS

pytestmark = [
    pytest.mark.qt,
    pytest.mark.local,
    # diffusers' schedulers pass tensors to np.array(); numpy 2 warns on every step. Not ours to fix.
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:__array_wrap__ must accept:DeprecationWarning"),
]


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo models, built once; torch is imported here, so `-m "not local"` never loads it."""
    torch = pytest.importorskip("torch", reason="the local engine needs the `local` extra")
    from graph_runtime.backends.local.catalog import Catalog
    from graph_runtime.backends.local.demo_models import init_demo

    torch.set_num_threads(2)  # same seed, same thread count: same pixels on every machine
    catalog = Catalog(tmp_path_factory.mktemp("models"))
    init_demo(catalog)
    return catalog.root


def test_text_to_image_on_the_local_engine(make_window, demo_catalog, tmp_path, monkeypatch, qtbot, shots) -> None:
    from graph_runtime.backends.local.catalog import MODELS_DIR_ENV
    from graph_runtime.backends.local.demo_models import SD15

    monkeypatch.setenv(MODELS_DIR_ENV, str(demo_catalog))
    out = tmp_path / "out"
    config.save_settings(config.Settings(default_backend="local", output_dir=str(out)))
    window = make_window(WORKFLOWS / "text-to-image.json")
    nodes = window.workflow.nodes
    model = next(n for n, node in nodes.items() if node.type == "model")
    infer = next(n for n, node in nodes.items() if node.type == "image_inference")
    save = next(n for n, node in nodes.items() if node.type == "save_image")
    ed = window.editor
    ed.set_param(model, "model", SD15)
    ed.set_param(model, "architecture", "sd1.5")
    for name, value in (("width", 128), ("height", 128), ("steps", 4), ("seed", 7)):
        ed.set_param(infer, name, value)
    assert window.run()
    qtbot.waitUntil(lambda: not window.runner.running and window.run_panel.run_button.isEnabled(), timeout=120000)
    QApplication.processEvents()
    assert window.run_panel.status.text().startswith("Done"), window.run_panel.status.text()
    scene = window.scene
    assert (scene.nodes[infer].state, scene.nodes[save].state) == ("done", "done")  # model, prompt: no work
    assert scene.nodes[save].thumbnails
    (image,) = (p for p in out.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    with Image.open(image) as img:
        assert img.size == (128, 128)
    assert str(image) in window.gallery.paths
    # the picture for the README: the graph with its badges, the inspector on the inference, the gallery
    window.scene.select_nodes([infer])
    window.resizeDocks([window.gallery_dock], [250], Qt.Orientation.Vertical)  # the whole thumbnail in view
    QApplication.processEvents()
    window.view.fit_all()
    for _ in range(3):
        QApplication.processEvents()
    assert shots.save(window, "editor-local-run.png").stat().st_size > 0
