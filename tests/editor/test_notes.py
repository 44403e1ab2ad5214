"""Notes on the canvas, used as a person would: add from the menus, type in place, move, resize, delete, copy."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.editor.canvas import style
from graph_runtime.document import Note, dumps
from tests.editor.conftest import WORKFLOWS
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


def look_at(window, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    """100% zoom, centred on a scene point (after the window's own fit-on-show has run)."""
    QApplication.processEvents()
    window.view.resetTransform()
    window.view.centerOn(QPointF(x, y))


def with_note(window, text: str = "remember the seed", at: tuple[float, float] = (0, 0)) -> str:  # type: ignore[no-untyped-def]
    note_id = window.editor.add_note(at, text)
    window.stack.clear()  # the note is part of the starting document
    return note_id


def test_add_note_from_the_edit_menu_type_it_and_undo_in_one_step(window, qtbot, make_window, tmp_path) -> None:
    look_at(window, 100, 80)
    before, start = dumps(window.workflow), window.stack.index()
    window.actions_by_name["add_note"].trigger()
    assert window.scene.inline is not None  # opened for typing at once
    type_text(window, qtbot, "Try a lower CFG")
    key(window, Qt.Key.Key_Return)  # a new line: notes are multi-line
    type_text(window, qtbot, "for the fox")
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # commits (and does not start a run)
    (note,) = window.workflow.notes
    assert note.text == "Try a lower CFG\nfor the fox"
    assert window.scene.inline is None
    assert window.stack.index() == start + 1  # adding and the first typing are one step
    assert window.scene.notes[note.id].text == note.text
    check_undo_redo(window, start, before)
    save_and_reopen(window, make_window, tmp_path / "noted.json")


def test_add_note_from_the_canvas_context_menu_lands_where_clicked(window, qtbot) -> None:
    look_at(window, 0, 0)
    before, start = dumps(window.workflow), window.stack.index()
    menu = context_menu(window, scene_point(window, 120, 40))
    choose(menu, "Add Note")
    (note,) = window.workflow.notes
    assert note.position == pytest.approx((120, 40), abs=1)
    key(window, Qt.Key.Key_Escape)  # nothing typed: the empty note stays, drawn with a hint
    assert window.workflow.notes[0].text == "" and window.scene.inline is None
    check_undo_redo(window, start, before)


def test_double_click_edits_in_place_and_focus_out_commits(window, qtbot) -> None:
    note_id = with_note(window, "draft")
    look_at(window, 100, 60)
    before, start = dumps(window.workflow), window.stack.index()
    double_click(window, scene_point(window, 40, 15))
    editor = window.scene.inline
    assert editor is not None and editor.text() == "draft"
    type_text(window, qtbot, "final words")  # the text starts selected: typing replaces it
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=scene_point(window, 400, 300))
    QApplication.processEvents()
    assert window.model.note(note_id).text == "final words"
    assert window.stack.index() == start + 1
    check_undo_redo(window, start, before)


def test_escape_cancels_an_edit(window, qtbot) -> None:
    note_id = with_note(window, "keep me")
    look_at(window, 100, 60)
    before, start = dumps(window.workflow), window.stack.index()
    double_click(window, scene_point(window, 40, 15))
    type_text(window, qtbot, "oops, delete everything")
    key(window, Qt.Key.Key_Delete)  # a text key while editing, not "delete the selection"
    key(window, Qt.Key.Key_Escape)
    assert window.model.note(note_id).text == "keep me"
    assert dumps(window.workflow) == before and window.stack.index() == start


def test_long_text_wraps_at_the_notes_width(window) -> None:
    note_id = with_note(window, "short")
    item = window.scene.notes[note_id]
    one_line = item.height
    window.editor.set_note_text(note_id, "a long note " * 20)
    assert item.width == style.NOTE_WIDTH and item.height > 3 * one_line


def test_a_note_and_a_node_move_together_in_one_step(window) -> None:
    note_id = with_note(window, "beside the prompt", at=(0, 200))
    node_id = window.editor.add_node("prompt", (0, 0))
    window.stack.clear()
    look_at(window, 150, 150)
    before, start = dumps(window.workflow), window.stack.index()
    window.scene.select_nodes([node_id, note_id])
    title = scene_point(window, 60, 12)
    drag(window, title, title + QPoint(100, 50))
    assert window.workflow.nodes[node_id].position == pytest.approx((100, 50), abs=2)
    assert window.model.note(note_id).position == pytest.approx((100, 250), abs=2)
    assert window.stack.index() == start + 1
    check_undo_redo(window, start, before)


def test_resize_a_note_by_its_grip(window) -> None:
    note_id = with_note(window, "wider please " * 6)
    look_at(window, 150, 60)
    item = window.scene.notes[note_id]
    height = item.height
    before, start = dumps(window.workflow), window.stack.index()
    grip = scene_point(window, style.NOTE_WIDTH - 4, item.height - 4)
    drag(window, grip, grip + QPoint(100, 0))
    note = window.model.note(note_id)
    assert note.width == pytest.approx(style.NOTE_WIDTH + 100, abs=2) and note.position == (0, 0)
    assert item.height < height  # wider: fewer lines
    assert window.stack.index() == start + 1
    check_undo_redo(window, start, before)


def test_delete_a_note_with_the_keyboard_and_undo_puts_it_back_in_place(window) -> None:
    first = with_note(window, "first", at=(0, 0))
    window.editor.add_note((0, 300), "second")
    window.stack.clear()
    look_at(window, 100, 100)
    before, start = dumps(window.workflow), window.stack.index()
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=scene_point(window, 40, 15))
    assert window.scene.selected_note_ids() == [first]
    key(window, Qt.Key.Key_Delete)
    assert [n.text for n in window.workflow.notes] == ["second"]
    check_undo_redo(window, start, before)


def test_copy_paste_and_duplicate_carry_notes_and_groups_with_nodes(make_window) -> None:
    window = make_window(WORKFLOWS / "lora-stack.json")
    ids = list(window.workflow.nodes)[:2]
    window.scene.select_nodes(ids)
    group_id = window.group_selection()
    note_id = window.editor.add_note((-300, 0), "these two load the model")
    window.stack.clear()
    before, start = dumps(window.workflow), window.stack.index()
    window.scene.select_nodes([*ids, group_id, note_id])
    window.actions_by_name["copy"].trigger()  # Edit > Copy
    assert "these two load the model" in QGuiApplication.clipboard().text()
    pasted = window.paste(QPointF(2000, 2000))
    assert len([n for n in pasted if n in window.workflow.nodes]) == len(ids)
    new_notes = [n for n in window.workflow.notes if n.id in pasted]
    new_groups = [g for g in window.workflow.groups if g.id in pasted]
    assert [n.text for n in new_notes] == ["these two load the model"] and new_notes[0].id != note_id
    assert len(new_groups) == 1 and new_groups[0].id != group_id
    assert set(window.scene.selected_note_ids()) == {new_notes[0].id}  # the pasted items are selected
    check_undo_redo(window, start, before)

    window.stack.undo()
    window.scene.select_nodes([*ids, group_id, note_id])
    start = window.stack.index()
    duplicated = window.duplicate()
    assert len(duplicated) == 4 and window.stack.index() == start + 1
    copy = next(n for n in window.workflow.notes if n.id in duplicated)
    assert copy.position == (-260, 40) and copy.text == "these two load the model"
    check_undo_redo(window, start, before)


def test_dragging_a_group_carries_the_notes_inside_it(window) -> None:
    node_id = window.editor.add_node("prompt", (0, 0))
    window.scene.select_nodes([node_id])
    group_id = window.group_selection()
    x, y, _, h = window.model.group(group_id).rect
    note_id = window.editor.add_note((x + 20, y + h - 45), "inside")
    window.stack.clear()
    look_at(window, 150, 100)
    before, start = dumps(window.workflow), window.stack.index()
    title = scene_point(window, x + 100, y + 10)
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=title)
    drag(window, title, title + QPoint(80, 0))
    assert window.model.note(note_id).position == pytest.approx((x + 100, y + h - 45), abs=2)
    assert window.workflow.nodes[node_id].position == pytest.approx((80, 0), abs=2)
    assert window.stack.index() == start + 1
    check_undo_redo(window, start, before)


def test_fragments_keep_notes_through_text(window) -> None:
    from app.editor.fragments import make_fragment, parse_fragment, remap_fragment

    wf = window.workflow
    wf.notes.append(Note(id="note", text="hi", position=(5, 5), width=300))
    fragment = parse_fragment(dumps(make_fragment(wf, [], note_ids=["note"])))
    assert fragment is not None and fragment.notes[0].width == 300
    pasted = remap_fragment(wf, fragment, (10, 0))
    assert [(n.id, n.position) for n in pasted.notes] == [("note_2", (15, 5))]
