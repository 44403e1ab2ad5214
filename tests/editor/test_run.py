"""Running from the editor: off the UI thread, badges per node, thumbnails, gallery, cost, seeds after run."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

pytest.importorskip("graph_runtime.run")

from graph_runtime import config
from graph_runtime.document import dumps
from tests.editor.conftest import WORKFLOWS
from tests.editor.fake_backend import COST, FAIL_WORD, FakeBackend

pytestmark = pytest.mark.qt


@pytest.fixture
def runnable(make_window, tmp_path):  # type: ignore[no-untyped-def]
    config.save_settings(config.Settings(default_backend="local", output_dir=str(tmp_path / "out")))
    window = make_window(WORKFLOWS / "text-to-image.json")
    window.runner.backend_override = FakeBackend()
    # a preview beside the save node, so both kinds of output show thumbnails
    infer = next(n for n, node in window.workflow.nodes.items() if node.type == "image_inference")
    from app.editor.connections import PortRef

    preview = window.editor.add_node("preview_image", (720, 260))
    window.editor.connect(PortRef(infer, "image", True), PortRef(preview, "image", False))
    window.stack.setClean()
    return window, infer, preview


def wait_for_run(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not window.runner.running and window.run_panel.run_button.isEnabled(), timeout=20000)
    QApplication.processEvents()


def test_a_run_shows_badges_thumbnails_gallery_and_cost(runnable, qtbot, shots) -> None:
    window, infer, preview = runnable
    window.editor.set_param(infer, "seed", 1234)
    window.editor.set_param(infer, "seedAfterRun", "increment")
    assert window.run()
    assert window.run_panel.cancel_button.isEnabled()
    wait_for_run(qtbot, window)
    scene = window.scene
    save = next(n for n, node in window.workflow.nodes.items() if node.type == "save_image")
    assert scene.nodes[infer].state == "done"
    assert scene.nodes[save].state == "done" and scene.nodes[save].thumbnails
    assert scene.nodes[preview].state == "done" and scene.nodes[preview].thumbnails
    assert len(window.gallery.paths) >= 2 and all(Path(p).is_file() for p in window.gallery.paths)
    assert window.run_panel.total_cost == pytest.approx(COST)
    assert "Cost" in window.run_panel.cost.text()
    assert window.run_panel.progress.value() == window.run_panel.progress.maximum()
    # seedAfterRun "increment": the next seed, as one undoable step
    assert window.workflow.nodes[infer].params["seed"] == 1235
    window.stack.undo()
    assert window.workflow.nodes[infer].params["seed"] == 1234
    window.scene.select_nodes([infer])
    window.view.fit_all()
    QApplication.processEvents()
    shots.save(window, "editor-run-results.png")


def test_the_ui_stays_responsive_during_a_run(runnable, qtbot) -> None:
    window, infer, _ = runnable
    gate = threading.Event()
    window.runner.backend_override = FakeBackend(gate)
    assert window.run()
    qtbot.waitUntil(lambda: window.scene.nodes[infer].state in ("queued", "running"), timeout=5000)
    # the UI thread keeps editing while the worker waits
    window.editor.set_param(infer, "steps", 5)
    assert window.runner.running
    gate.set()
    wait_for_run(qtbot, window)
    assert window.scene.nodes[infer].state == "done"


def test_cancel_keeps_what_finished(runnable, qtbot) -> None:
    window, _infer, _ = runnable
    gate = threading.Event()
    window.runner.backend_override = FakeBackend(gate)
    assert window.run()
    qtbot.waitUntil(lambda: window.runner.running, timeout=5000)
    window.cancel_run()
    gate.set()
    wait_for_run(qtbot, window)
    assert window.run_panel.status.text().startswith(("Cancelled", "Done"))


def test_a_failed_node_shows_its_error(runnable, qtbot, shots) -> None:
    window, infer, _ = runnable
    prompt = next(n for n, node in window.workflow.nodes.items() if node.type == "prompt")
    window.editor.set_param(prompt, "text", f"please {FAIL_WORD} now")
    assert window.run()
    wait_for_run(qtbot, window)
    item = window.scene.nodes[infer]
    assert item.state == "failed"
    assert any("crashed" in line for line in item.error_lines)
    assert window.run_panel.status.text().startswith("Failed")
    shots.save(window, "editor-run-failed.png")


def test_a_graph_with_errors_does_not_run(window) -> None:
    window.editor.add_node("image_inference", (0, 0))
    assert not window.run()
    assert "Fix" in window.statusBar().currentMessage()
    assert window.problems_dock.isVisible()


def test_cloud_without_a_key_asks_for_one(make_window) -> None:
    config.save_settings(config.Settings(default_backend="cloud"))
    window = make_window(WORKFLOWS / "text-to-image.json")
    window.run_options = lambda: type("O", (), {"backend": "cloud", "api_key": None})()  # no keyring in tests
    assert not window.run()
    assert "API key" in window.statusBar().currentMessage()


def test_the_run_does_not_change_the_document_except_seeds(runnable, qtbot) -> None:
    window, _, _ = runnable
    before = dumps(window.workflow)
    assert window.run()
    wait_for_run(qtbot, window)
    assert dumps(window.workflow) == before  # seed unset, seedAfterRun fixed: nothing to apply
    assert not window.isWindowModified()
