"""Screenshots of the main window for people to look at (tests/_output/screenshots, git-ignored)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from tests.editor.conftest import WORKFLOWS

pytestmark = pytest.mark.qt


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def test_empty_window(window, shots) -> None:
    settle()
    assert shots.save(window, "editor-empty.png").stat().st_size > 0


def test_example_workflow_with_inspector(make_window, shots) -> None:
    window = make_window(WORKFLOWS / "lora-stack.json")
    infer = next(n for n, node in window.workflow.nodes.items() if node.type == "image_inference")
    window.scene.select_nodes([infer])
    settle()
    window.view.fit_all()
    settle()
    shots.save(window, "editor-example.png")


def test_palette_open(make_window, qtbot, shots) -> None:
    window = make_window(WORKFLOWS / "text-to-image.json")
    settle()
    window.open_palette(window.view.mapToScene(window.view.viewport().rect().center()) + QPointF(-150, -100))
    qtbot.keyClicks(window.palette.search, "mod")
    settle()
    shots.save(window, "editor-palette.png")


def test_validation_errors(make_window, shots) -> None:
    window = make_window(WORKFLOWS / "text-to-image.json")
    infer = next(n for n, node in window.workflow.nodes.items() if node.type == "image_inference")
    window.editor.set_param(infer, "width", 1000)
    window.editor.disconnect([lk.id for lk in window.workflow.links if lk.to.input == "positive"])
    window.revalidate()
    errors = [d for d in window.diagnostics if d.severity == "error"]
    assert {d.code for d in errors} >= {"not_multiple_of", "required_input_missing"}
    assert window.problems.topLevelItemCount() == len(window.diagnostics)
    assert window.scene.nodes[infer].diagnostics  # the badge on the node
    # clicking a problem selects and centres its node
    item = window.problems.topLevelItem(0)
    window.problems.itemClicked.emit(item, 0)
    assert window.scene.selected_node_ids() == [errors[0].node_id]
    settle()
    shots.save(window, "editor-validation-errors.png")


def test_zoomed_out_level_of_detail(make_window, shots) -> None:
    window = make_window(WORKFLOWS / "controlnet-canny.json")
    settle()
    window.view.fit_all()
    window.view.zoom_by(0.3)
    settle()
    shots.save(window.view, "editor-zoomed-out.png")
