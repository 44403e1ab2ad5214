"""The node context menu: rename, colour, collapse, duplicate, delete, show request. Each is one undo step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from app.editor.canvas import style
from app.editor.connections import PortRef
from app.editor.request_view import RequestDialog
from graph_runtime.document import dumps
from tests.editor.helpers import (
    check_undo_redo,
    choose,
    context_menu,
    key,
    save_and_reopen,
    scene_point,
    type_text,
)

pytestmark = pytest.mark.qt


@pytest.fixture
def wired(window):  # type: ignore[no-untyped-def]
    """A prompt wired into an image inference node, at 100% zoom, with a clean undo stack."""
    prompt = window.editor.add_node("prompt", (0, 0))
    infer = window.editor.add_node("image_inference", (400, 0))
    window.editor.connect(PortRef(prompt, "text", True), PortRef(infer, "positive", False))
    window.stack.clear()
    QApplication.processEvents()
    window.view.resetTransform()
    window.view.centerOn(QPointF(350, 150))
    return window, prompt, infer


def menu_on(window, node_id: str):  # type: ignore[no-untyped-def]
    x, y = window.workflow.nodes[node_id].position
    return context_menu(window, scene_point(window, x + 80, y + 12))


def test_rename_in_place_and_an_empty_title_goes_back_to_the_type(wired, qtbot, make_window, tmp_path) -> None:
    window, prompt, _ = wired
    before, start = dumps(window.workflow), window.stack.index()
    choose(menu_on(window, prompt), "Rename")
    assert window.scene.inline is not None and window.scene.inline.text() == "Prompt"
    type_text(window, qtbot, "Subject")
    key(window, Qt.Key.Key_Return)
    assert window.workflow.nodes[prompt].title == "Subject"
    assert window.scene.nodes[prompt].title == "Subject"  # on the canvas at once
    assert window.stack.index() == start + 1
    check_undo_redo(window, start, before)
    save_and_reopen(window, make_window, tmp_path / "renamed.json")

    choose(menu_on(window, prompt), "Rename")
    key(window, Qt.Key.Key_Backspace)  # the whole title was selected: now empty
    key(window, Qt.Key.Key_Return)
    assert window.workflow.nodes[prompt].title is None
    assert window.scene.nodes[prompt].title == "Prompt"


def test_colour_and_default(wired) -> None:
    window, prompt, _ = wired
    before, start = dumps(window.workflow), window.stack.index()
    choose(menu_on(window, prompt), "Colour", "Purple")
    purple = dict(style.PALETTE)["Purple"]
    assert window.workflow.nodes[prompt].color == purple
    assert window.scene.nodes[prompt].color.name() == purple
    assert window.stack.index() == start + 1
    check_undo_redo(window, start, before)
    choose(menu_on(window, prompt), "Colour", "Default")
    assert window.workflow.nodes[prompt].color is None
    assert dumps(window.workflow) == before  # "default" drops the key: back to the file as it was


def test_colour_of_several_selected_nodes_is_one_step(wired) -> None:
    window, prompt, infer = wired
    before, start = dumps(window.workflow), window.stack.index()
    window.scene.select_nodes([prompt, infer])
    choose(menu_on(window, infer), "Colour", "Red")
    assert {n.color for n in window.workflow.nodes.values()} == {dict(style.PALETTE)["Red"]}
    assert window.stack.index() == start + 1
    check_undo_redo(window, start, before)


def test_collapse_draws_the_title_bar_only_and_wires_stay_attached(wired, make_window, tmp_path, shots) -> None:
    window, _prompt, infer = wired
    before, start = dumps(window.workflow), window.stack.index()
    item = window.scene.nodes[infer]
    choose(menu_on(window, infer), "Collapse")
    assert window.workflow.nodes[infer].collapsed is True
    assert item.height == style.HEADER_HEIGHT
    (wire,) = window.scene.wires.values()
    end = wire.path().pointAtPercent(1.0)
    assert end == item.port_scene_pos("positive", False)
    assert item.body_rect().contains(item.mapFromScene(end) + QPointF(1, 0))  # on the title bar's edge
    assert window.stack.index() == start + 1
    check_undo_redo(window, start, before)
    assert wire.path().pointAtPercent(1.0) == item.port_scene_pos("positive", False)
    shots.save(window.view, "editor-collapsed-node.png")
    save_and_reopen(window, make_window, tmp_path / "collapsed.json")
    choose(menu_on(window, infer), "Expand")
    assert window.workflow.nodes[infer].collapsed is None and item.height > style.HEADER_HEIGHT
    assert "collapsed" not in dumps(window.workflow)  # expanding leaves no "collapsed": false behind
    assert wire.path().pointAtPercent(1.0) == item.port_scene_pos("positive", False)


def test_duplicate_and_delete_from_the_menu(wired) -> None:
    window, prompt, _ = wired
    before, start = dumps(window.workflow), window.stack.index()
    choose(menu_on(window, prompt), "Duplicate")
    assert len(window.workflow.nodes) == 3 and window.stack.index() == start + 1
    check_undo_redo(window, start, before)
    window.stack.undo()
    choose(menu_on(window, prompt), "Delete")
    assert prompt not in window.workflow.nodes and window.workflow.links == []
    check_undo_redo(window, start, before)


def test_show_request_for_this_node(wired) -> None:
    window, _, infer = wired
    choose(menu_on(window, infer), "Show request for this node")
    dialog = window.last_dialog
    assert isinstance(dialog, RequestDialog) and dialog.isVisible()
    assert infer in dialog.windowTitle()
    dialog.close()


def test_canvas_menu_offers_paste_only_with_something_to_paste(window) -> None:
    QApplication.clipboard().setText("not a workflow")
    menu = context_menu(window, scene_point(window, 0, 0))
    paste = next(a for a in menu.actions() if a.text() == "&Paste")
    assert not paste.isEnabled()
    menu.hide()
