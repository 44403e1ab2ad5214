"""Every kind of edit undoes back to the exact original document (byte-identical dumps) and redoes forward."""

from __future__ import annotations

import pytest

from app.editor.connections import PortRef
from app.editor.document_model import UNSET
from graph_runtime.document import dumps, load
from tests.editor.conftest import WORKFLOWS

pytestmark = pytest.mark.qt


@pytest.fixture
def opened(make_window):  # type: ignore[no-untyped-def]
    return make_window(WORKFLOWS / "lora-stack.json")


def check_roundtrip(window, edit) -> None:  # type: ignore[no-untyped-def]
    window.stack.setClean()
    original = dumps(window.workflow)
    start = window.stack.index()
    edit()
    changed = dumps(window.workflow)
    assert changed != original
    assert window.isWindowModified()
    while window.stack.index() > start:
        window.stack.undo()
    assert dumps(window.workflow) == original
    assert not window.isWindowModified()
    while window.stack.canRedo():
        window.stack.redo()
    assert dumps(window.workflow) == changed
    # the canvas follows: one item per node, link and group
    assert set(window.scene.nodes) == set(window.workflow.nodes)
    assert set(window.scene.wires) == {link.id for link in window.workflow.links}
    assert set(window.scene.groups) == {g.id for g in window.workflow.groups}
    assert set(window.scene.notes) == {n.id for n in window.workflow.notes}


def test_add(opened) -> None:
    check_roundtrip(opened, lambda: opened.editor.add_node("vae", (10, 20)))


def test_remove_a_node_in_the_middle_restores_order_of_nodes_and_links(opened) -> None:
    middle = list(opened.workflow.nodes)[2]
    check_roundtrip(opened, lambda: opened.editor.delete([middle]))


def test_move(opened) -> None:
    first = next(iter(opened.workflow.nodes))
    check_roundtrip(opened, lambda: opened.editor.move({first: ((0.0, 0.0), (55.0, 66.0))}))


def test_connect_and_disconnect(opened) -> None:
    ed = opened.editor
    lora = ed.add_node("lora", (0, 600))
    infer = next(n for n, node in opened.workflow.nodes.items() if node.type == "image_inference")
    opened.stack.setClean()
    check_roundtrip(opened, lambda: ed.connect(PortRef(lora, "lora", True), PortRef(infer, "loras", False)))
    check_roundtrip(opened, lambda: ed.disconnect([opened.workflow.links[0].id]))


def test_parameter_edits_set_change_and_unset(opened) -> None:
    ed = opened.editor
    infer = next(n for n, node in opened.workflow.nodes.items() if node.type == "image_inference")
    check_roundtrip(opened, lambda: ed.set_param(infer, "scheduler", "Euler"))  # unset -> set (appended)
    check_roundtrip(opened, lambda: ed.set_param(infer, "width", 768))  # changed in place
    first_key = next(iter(opened.workflow.nodes[infer].params))
    check_roundtrip(opened, lambda: ed.set_param(infer, first_key, UNSET))  # unset, undo restores its position


def test_typing_merges_into_one_step(opened) -> None:
    ed = opened.editor
    prompt = next(n for n, node in opened.workflow.nodes.items() if node.type == "prompt")
    start = opened.stack.count()
    for text in ("a", "a c", "a ca", "a cat"):
        ed.set_param(prompt, "text", text)
    assert opened.stack.count() == start + 1
    opened.stack.undo()
    assert opened.workflow.nodes[prompt].params["text"] != "a cat"


def test_title(opened) -> None:
    first = next(iter(opened.workflow.nodes))
    check_roundtrip(opened, lambda: opened.editor.set_title(first, "Renamed"))


def test_group_and_its_title(opened) -> None:
    ids = list(opened.workflow.nodes)[:2]

    def make_group() -> None:
        opened.scene.select_nodes(ids)
        group_id = opened.group_selection()
        opened.editor.set_group_title(group_id, "Inputs")

    check_roundtrip(opened, make_group)
    assert opened.workflow.groups[0].title == "Inputs"


def test_moving_a_group_carries_its_nodes_in_one_step(opened) -> None:
    ids = list(opened.workflow.nodes)[:2]
    opened.scene.select_nodes(ids)
    group_id = opened.group_selection()
    group = opened.model.group(group_id)
    x, y, w, h = group.rect
    positions = {n: (tuple(opened.workflow.nodes[n].position),) for n in ids}
    moves = {n: (p[0], (p[0][0] + 100, p[0][1])) for n, p in positions.items()}
    check_roundtrip(opened, lambda: opened.editor.move(moves, {group_id: ((x, y, w, h), (x + 100, y, w, h))}))


def test_every_note_edit(opened) -> None:
    ed = opened.editor
    check_roundtrip(opened, lambda: ed.add_note((10, 20), "first"))
    note_id = opened.workflow.notes[0].id
    check_roundtrip(opened, lambda: ed.set_note_text(note_id, "changed"))
    check_roundtrip(opened, lambda: ed.set_note_width(note_id, 333))
    check_roundtrip(opened, lambda: ed.move({}, note_positions={note_id: ((10.0, 20.0), (50.0, 60.0))}))
    ed.add_note((0, 300), "second")
    check_roundtrip(opened, lambda: ed.delete(note_ids=[note_id]))  # undo puts it back first in the list


def test_node_colour_collapse_and_group_colour_and_size(opened) -> None:
    ed = opened.editor
    first = next(iter(opened.workflow.nodes))
    check_roundtrip(opened, lambda: ed.set_node_color(first, "#3c78c8"))
    check_roundtrip(opened, lambda: ed.set_collapsed(first, True))
    opened.scene.select_nodes([first])
    group_id = opened.group_selection()
    check_roundtrip(opened, lambda: ed.set_group_color(group_id, "#c8494d"))
    check_roundtrip(opened, lambda: ed.resize_group(group_id, 900, 700))


def test_auto_layout_of_the_whole_graph(opened) -> None:
    for node in opened.workflow.nodes.values():
        node.position = (0.0, 0.0)
    opened.model.replace(opened.workflow.model_copy(deep=True))
    check_roundtrip(opened, opened.auto_layout)
    xs = {tuple(n.position) for n in opened.workflow.nodes.values()}
    assert len(xs) == len(opened.workflow.nodes)  # no two nodes on one spot


def test_reorder_list_input(opened) -> None:
    infer = next(n for n, node in opened.workflow.nodes.items() if node.type == "image_inference")
    loras = [lk.id for lk in opened.workflow.links_into(infer, "loras")]
    assert len(loras) >= 2
    check_roundtrip(opened, lambda: opened.editor.move_link(loras[1], -1))
    assert [lk.id for lk in opened.workflow.links_into(infer, "loras")][:2] == [loras[1], loras[0]]


def test_paste_and_duplicate(opened) -> None:
    ids = list(opened.workflow.nodes)[:3]
    opened.scene.select_nodes(ids)
    check_roundtrip(opened, opened.duplicate)


def test_whole_session_undoes_to_the_file(opened) -> None:
    """Many edits of every kind, then undo all: the document equals the file on disk."""
    on_disk = dumps(load(WORKFLOWS / "lora-stack.json"))
    ed = opened.editor
    infer = next(n for n, node in opened.workflow.nodes.items() if node.type == "image_inference")
    vae = ed.add_node("vae", (0, 800))
    ed.connect(PortRef(vae, "vae", True), PortRef(infer, "vae", False))
    ed.set_param(vae, "model", "runware:100@1")
    ed.set_param(infer, "steps", 12)
    opened.scene.select_nodes([vae])
    opened.group_selection()
    opened.auto_layout()
    ed.delete([next(iter(opened.workflow.nodes))])
    while opened.stack.canUndo():
        opened.stack.undo()
    assert dumps(opened.workflow) == on_disk
