"""Screenshots of the main window for people to look at (tests/_output/screenshots, git-ignored)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from app.editor.canvas.node_item import LOD_TEXT
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
    assert window.inspector.node_id == infer
    assert shots.save(window, "editor-example.png").stat().st_size > 0


def test_palette_open(make_window, qtbot, shots) -> None:
    window = make_window(WORKFLOWS / "text-to-image.json")
    settle()
    window.open_palette(window.view.mapToScene(window.view.viewport().rect().center()) + QPointF(-150, -100))
    qtbot.keyClicks(window.palette.search, "mod")
    settle()
    assert window.palette.isVisible()
    assert window.palette.list.count() >= 1 and window.palette.list.item(0).text().startswith("Model")
    assert shots.save(window, "editor-palette.png").stat().st_size > 0


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
    assert window.view.transform().m11() < LOD_TEXT  # nodes now paint without text
    assert shots.save(window.view, "editor-zoomed-out.png").stat().st_size > 0


def test_notes_groups_colours_and_a_collapsed_node(make_window, qtbot, shots) -> None:
    from app.editor.canvas import style

    window = make_window(WORKFLOWS / "text-to-image.json")
    ed = window.editor
    nodes = window.workflow.nodes
    prompts = [n for n, node in nodes.items() if node.type == "prompt"]
    infer = next(n for n, node in nodes.items() if node.type == "image_inference")
    window.scene.select_nodes(prompts)
    group_id = window.group_selection()
    ed.set_group_title(group_id, "What to draw")
    ed.set_group_color(group_id, dict(style.PALETTE)["Teal"])
    ed.set_node_color(infer, dict(style.PALETTE)["Purple"])
    ed.set_title(infer, "Render")
    model = next(n for n, node in nodes.items() if node.type == "model")
    ed.set_collapsed(model, True)
    x, y, _w, h = window.model.group(group_id).rect
    ed.add_note((x, y + h + 30), "Keep the negative prompt short: long lists fight the positive one.")
    ix, iy = nodes[infer].position
    ed.add_note((ix + 20, iy + window.scene.nodes[infer].height + 30), "TODO: try 30 steps", width=150)
    settle()
    window.view.fit_all()
    settle()
    assert window.scene.notes and window.scene.groups
    shots.save(window, "editor-notes-groups.png")
    # a note being edited in place
    note_id = window.workflow.notes[0].id
    window.scene.edit_note(note_id)
    qtbot.keyClicks(window.view.viewport(), "Shorter negatives read better.")
    settle()
    shots.save(window.view, "editor-note-editing.png")
