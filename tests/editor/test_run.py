"""Running from the editor against a real Runware-compatible server on loopback, set up as a person would: the
server's URL as the engine in Settings, the key in RUNWARE_API_KEY. Runs go off the UI thread; badges per
node, thumbnails, gallery, cost, cancel, a failing task, seeds after run."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

pytest.importorskip("graph_runtime.run")

from app.editor.connections import PortRef
from graph_runtime import config
from graph_runtime.document import dumps
from graph_runtime.events import Event, EventKind
from tests.editor.conftest import WORKFLOWS
from tests.executor.fake_runware import COST, FAIL_WORD, FakeRunware

pytestmark = pytest.mark.qt


def node_of(window, type_id: str) -> str:  # type: ignore[no-untyped-def]
    return next(n for n, node in window.workflow.nodes.items() if node.type == type_id)


@pytest.fixture
def runnable(make_window, runware: FakeRunware, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RUNWARE_API_KEY", runware.api_key)
    config.save_settings(config.Settings(default_backend=runware.url, output_dir=str(tmp_path / "out")))
    window = make_window(WORKFLOWS / "text-to-image.json")
    infer = node_of(window, "image_inference")
    # a preview beside the save node, so both kinds of output show thumbnails
    preview = window.editor.add_node("preview_image", (720, 260))
    window.editor.connect(PortRef(infer, "image", True), PortRef(preview, "image", False))
    window.stack.setClean()
    return window, infer, preview


def wait_for_run(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not window.runner.running and window.run_panel.run_button.isEnabled(), timeout=20000)
    QApplication.processEvents()


def test_a_run_shows_badges_thumbnails_gallery_and_cost(runnable, runware, qtbot, shots) -> None:
    window, infer, preview = runnable
    window.editor.set_param(infer, "seed", 1234)
    window.editor.set_param(infer, "seedAfterRun", "increment")
    assert window.run()
    assert window.run_panel.cancel_button.isEnabled()
    wait_for_run(qtbot, window)
    (task,) = runware.work_tasks()
    assert task["taskType"] == "imageInference" and task["seed"] == 1234 and task["width"] == 1024
    scene = window.scene
    save = node_of(window, "save_image")
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


def test_the_ui_stays_responsive_during_a_run(runnable, runware, qtbot) -> None:
    window, infer, _ = runnable
    runware.latency = 0.5  # the server takes its time; the window must not wait for it
    assert window.run()
    qtbot.waitUntil(lambda: window.scene.nodes[infer].state in ("queued", "running"), timeout=5000)
    # the UI thread keeps editing while the worker waits on the server
    window.editor.set_param(infer, "steps", 5)
    assert window.runner.running
    assert window.workflow.nodes[infer].params["steps"] == 5
    wait_for_run(qtbot, window)
    assert window.scene.nodes[infer].state == "done"
    assert [t["steps"] for t in runware.work_tasks()] == [30]  # the run uses the graph as it was at Run


def test_cancel_keeps_what_finished(runnable, runware, qtbot, tmp_path) -> None:
    window, infer, _ = runnable
    ed = window.editor
    save = node_of(window, "save_image")
    # a second pass, image to image from the first: it can only start once the first is done
    refine = ed.add_node("image_inference", (720, -420))
    ed.connect(PortRef(node_of(window, "model"), "model", True), PortRef(refine, "model", False))
    ed.connect(PortRef(node_of(window, "prompt"), "text", True), PortRef(refine, "positive", False))
    ed.connect(PortRef(infer, "image", True), PortRef(refine, "seed_image", False))
    ed.set_param(refine, "strength", 0.5)
    save_refined = ed.add_node("save_image", (1080, -420))
    ed.connect(PortRef(refine, "image", True), PortRef(save_refined, "image", False))
    runware.latency = 0.3

    def press_cancel_when_the_first_is_done(event: Event) -> None:  # as a person watching the badges would
        if event.kind is EventKind.NODE_FINISHED and event.node_id == infer:
            window.run_panel.cancel_button.click()

    window.runner.event.connect(press_cancel_when_the_first_is_done)
    assert window.run()
    wait_for_run(qtbot, window)
    assert window.run_panel.status.text().startswith("Cancelled")
    scene = window.scene
    assert scene.nodes[infer].state == "done"
    assert scene.nodes[save].state == "done" and scene.nodes[save].thumbnails
    assert scene.nodes[refine].state != "done" and not scene.nodes[refine].thumbnails
    assert scene.nodes[save_refined].state == "skipped" and not scene.nodes[save_refined].thumbnails
    (kept,) = (tmp_path / "out").glob("*.jpg")  # the first pass's image, saved; the second never made one
    assert str(kept) in window.gallery.paths


def test_a_failed_node_shows_its_error(runnable, runware, qtbot, shots) -> None:
    window, infer, _ = runnable
    window.editor.set_param(node_of(window, "prompt"), "text", f"please {FAIL_WORD} now")
    assert window.run()
    wait_for_run(qtbot, window)
    item = window.scene.nodes[infer]
    assert item.state == "failed"
    assert any("crashed" in line for line in item.error_lines)  # the server's message, word for word
    assert window.run_panel.status.text().startswith("Failed")
    assert len(runware.work_tasks()) == 1  # a task error is an answer, not a reason to retry
    shots.save(window, "editor-run-failed.png")


def test_a_graph_with_errors_does_not_run(window) -> None:
    window.editor.add_node("image_inference", (0, 0))
    assert not window.run()
    assert "Fix" in window.statusBar().currentMessage()
    assert window.problems_dock.isVisible()


def test_cloud_without_a_key_asks_for_one(make_window) -> None:
    # no RUNWARE_API_KEY, a keyring that holds nothing, no key in the settings file
    config.save_settings(config.Settings(default_backend="cloud"))
    window = make_window(WORKFLOWS / "text-to-image.json")
    assert not window.run()
    assert "API key" in window.statusBar().currentMessage()
    assert not window.runner.running


def test_the_run_does_not_change_the_document_except_seeds(runnable, qtbot) -> None:
    window, _, _ = runnable
    before = dumps(window.workflow)
    assert window.run()
    wait_for_run(qtbot, window)
    assert window.run_panel.status.text().startswith("Done")
    assert dumps(window.workflow) == before  # seed unset, seedAfterRun fixed: nothing to apply
    assert not window.isWindowModified()


def test_a_server_at_a_url_gets_the_key(runnable, runware, qtbot) -> None:
    window, infer, _ = runnable
    runware.require_key = True
    assert window.run()
    wait_for_run(qtbot, window)
    assert runware.auth_headers == [f"Bearer {runware.api_key}"]
    assert window.scene.nodes[infer].state == "done"
