"""Groups: resize by the corner grip, colour from the context menu, rename in place."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from app.editor.canvas import style
from graph_runtime.document import dumps
from tests.editor.helpers import (
    check_undo_redo,
    choose,
    context_menu,
    double_click,
    drag,
    key,
    save_and_reopen,
    scene_point,
    type_text,
)

pytestmark = pytest.mark.qt


@pytest.fixture
def grouped(window):  # type: ignore[no-untyped-def]
    """A window with two nodes in a group, at 100% zoom, and a clean undo stack."""
    a = window.editor.add_node("prompt", (0, 0))
    b = window.editor.add_node("prompt", (0, 160))
    window.scene.select_nodes([a, b])
    group_id = window.group_selection()
    window.scene.clearSelection()
    window.stack.clear()
    QApplication.processEvents()
    window.view.resetTransform()
    window.view.centerOn(QPointF(150, 120))
    return window, group_id, (a, b)


def test_resize_a_group_by_its_corner_leaves_the_nodes_alone(grouped) -> None:
    window, group_id, nodes = grouped
    before, start = dumps(window.workflow), window.stack.index()
    x, y, w, h = window.model.group(group_id).rect
    positions = {n: window.workflow.nodes[n].position for n in nodes}
    corner = scene_point(window, x + w - 4, y + h - 4)
    drag(window, corner, corner + QPoint(120, 60))
    assert window.model.group(group_id).rect == pytest.approx((x, y, w + 120, h + 60), abs=1)
    assert {n: window.workflow.nodes[n].position for n in nodes} == positions
    assert window.scene.groups[group_id].boundingRect().width() == pytest.approx(w + 120, abs=1)
    assert window.stack.index() == start + 1
    check_undo_redo(window, start, before)


def test_a_group_cannot_shrink_below_its_minimum(grouped) -> None:
    window, group_id, _ = grouped
    x, y, w, h = window.model.group(group_id).rect
    corner = scene_point(window, x + w - 4, y + h - 4)
    drag(window, corner, scene_point(window, x - 300, y - 300))
    assert window.model.group(group_id).rect[2:] == style.GROUP_MIN_SIZE


def test_colour_a_group_from_its_context_menu(grouped, make_window, tmp_path) -> None:
    window, group_id, _ = grouped
    before, start = dumps(window.workflow), window.stack.index()
    x, y, _w, _h = window.model.group(group_id).rect
    menu = context_menu(window, scene_point(window, x + 150, y + 10))
    choose(menu, "Colour", "Green")
    green = dict(style.PALETTE)["Green"]
    assert window.model.group(group_id).color == green
    assert window.scene.groups[group_id].band.name() == green
    check_undo_redo(window, start, before)
    menu = context_menu(window, scene_point(window, x + 150, y + 10))
    choose(menu, "Colour", "Default")  # back to no colour of its own
    assert window.model.group(group_id).color is None
    window.stack.undo()
    save_and_reopen(window, make_window, tmp_path / "green.json")


def test_rename_a_group_in_place_by_double_clicking_its_title(grouped, qtbot) -> None:
    window, group_id, _ = grouped
    before, start = dumps(window.workflow), window.stack.index()
    x, y, _w, _h = window.model.group(group_id).rect
    double_click(window, scene_point(window, x + 60, y + 15))
    editor = window.scene.inline
    assert editor is not None and editor.text() == "Group"  # no blocking dialog: the title is edited in place
    type_text(window, qtbot, "Prompts")
    key(window, Qt.Key.Key_Return)  # a title is one line: Enter commits
    assert window.model.group(group_id).title == "Prompts"
    assert window.scene.groups[group_id].title == "Prompts"
    assert window.scene.inline is None and window.stack.index() == start + 1
    check_undo_redo(window, start, before)


def test_escape_leaves_the_group_title_as_it_was(grouped, qtbot) -> None:
    window, group_id, _ = grouped
    before = dumps(window.workflow)
    x, y, _w, _h = window.model.group(group_id).rect
    double_click(window, scene_point(window, x + 60, y + 15))
    type_text(window, qtbot, "Nope")
    key(window, Qt.Key.Key_Escape)
    assert dumps(window.workflow) == before and not window.stack.canUndo()


def test_rename_from_the_context_menu_and_f2(grouped, qtbot) -> None:
    window, group_id, _ = grouped
    x, y, _w, _h = window.model.group(group_id).rect
    choose(context_menu(window, scene_point(window, x + 150, y + 10)), "Rename")
    type_text(window, qtbot, "Inputs")
    key(window, Qt.Key.Key_Return)
    assert window.model.group(group_id).title == "Inputs"
    window.scene.select_nodes([group_id])
    key(window, Qt.Key.Key_F2)
    type_text(window, qtbot, "Text")
    key(window, Qt.Key.Key_Return)
    assert window.model.group(group_id).title == "Text"
    assert window.stack.count() == 2
