"""The inspector builds its widgets from the parameter declarations and edits through undoable commands."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLineEdit, QPlainTextEdit, QSpinBox

from app.editor.param_widgets import UNSET_CHOICE
from graph_runtime.document import dumps
from nodes import REGISTRY

pytestmark = pytest.mark.qt


@pytest.fixture
def infer(window):  # type: ignore[no-untyped-def]
    node_id = window.editor.add_node("image_inference", (0, 0))
    window.scene.select_nodes([node_id])
    assert window.inspector.node_id == node_id
    return node_id


def row(window, name):  # type: ignore[no-untyped-def]
    return window.inspector.rows[name]


def test_widgets_follow_the_declarations(window, infer) -> None:
    decl = REGISTRY["image_inference"]
    width = row(window, "width").editor.findChild(QSpinBox)
    assert (width.minimum(), width.maximum(), width.singleStep()) == (128, 2048, 64)
    cfg = row(window, "CFGScale").editor.findChild(QDoubleSpinBox)
    assert (cfg.minimum(), cfg.maximum()) == (decl.param("CFGScale").minimum, decl.param("CFGScale").maximum)
    scheduler = row(window, "scheduler").editor.findChild(QComboBox)
    assert scheduler.itemText(0) == UNSET_CHOICE
    assert [scheduler.itemText(i) for i in range(1, scheduler.count())] == list(decl.param("scheduler").choices)
    seed = row(window, "seed").editor.findChild(QLineEdit)
    assert seed.placeholderText() == "random each run"


def test_unset_parameters_show_the_default_greyed_and_stay_unset(window, infer) -> None:
    steps = row(window, "steps").editor.findChild(QSpinBox)
    assert steps.value() == 20  # the API default, shown
    assert steps.property("unset") is True
    assert "steps" not in window.workflow.nodes[infer].params
    assert not row(window, "steps").reset.isEnabled()


def test_editing_a_spin_box_sets_the_value_and_reset_unsets(window, infer) -> None:
    steps = row(window, "steps").editor.findChild(QSpinBox)
    steps.setFocus()
    steps.lineEdit().selectAll()
    QTest.keyClicks(steps, "35")
    QTest.keyClick(steps, Qt.Key.Key_Return)
    assert window.workflow.nodes[infer].params["steps"] == 35
    assert steps.property("unset") is False
    reset = row(window, "steps").reset
    assert reset.isEnabled()
    reset.click()
    assert "steps" not in window.workflow.nodes[infer].params
    window.stack.undo()
    assert window.workflow.nodes[infer].params["steps"] == 35


def test_seed_takes_the_full_63_bit_range(window, infer) -> None:
    seed = row(window, "seed").editor.findChild(QLineEdit)
    QTest.keyClicks(seed, str(2**63 - 1))
    assert window.workflow.nodes[infer].params["seed"] == 2**63 - 1
    QTest.keyClicks(seed, "x-")  # the validator refuses anything but digits
    assert window.workflow.nodes[infer].params["seed"] == 2**63 - 1
    seed.clear()
    QTest.keyClicks(seed, "7")
    assert window.workflow.nodes[infer].params["seed"] == 7


def test_enum_unset_entry_and_choice(window, infer) -> None:
    combo = row(window, "scheduler").editor.findChild(QComboBox)
    combo.activated.emit(combo.findText("Euler"))
    assert window.workflow.nodes[infer].params["scheduler"] == "Euler"
    combo.activated.emit(0)
    assert "scheduler" not in window.workflow.nodes[infer].params


def test_prompt_typing_is_one_undo_step_with_a_character_count(window, qtbot) -> None:
    prompt = window.editor.add_node("prompt", (0, 0))
    window.scene.select_nodes([prompt])
    before = dumps(window.workflow)
    editor = row(window, "text").editor
    text = editor.findChild(QPlainTextEdit)
    qtbot.keyClicks(text, "a red fox")
    assert window.workflow.nodes[prompt].params["text"] == "a red fox"
    assert editor.count.text() == "9 / 3000 characters"
    window.stack.undo()
    assert dumps(window.workflow) == before


def test_undo_updates_the_inspector(window, infer) -> None:
    window.editor.set_param(infer, "width", 512)
    width = row(window, "width").editor.findChild(QSpinBox)
    assert width.value() == 512
    window.stack.undo()
    assert width.value() == 1024


def test_field_diagnostics_show_under_the_field(window, infer) -> None:
    window.editor.set_param(infer, "width", 1000)  # not a multiple of 64
    window.revalidate()
    problems = row(window, "width").problems
    assert not problems.isHidden() and "multiple of 64" in problems.text()


def test_list_input_order_is_editable_from_the_inspector(window) -> None:
    from app.editor.connections import PortRef

    ed = window.editor
    infer = ed.add_node("image_inference", (400, 0))
    a = ed.add_node("lora", (0, 0))
    b = ed.add_node("lora", (0, 150))
    ed.connect(PortRef(a, "lora", True), PortRef(infer, "loras", False))
    ed.connect(PortRef(b, "lora", True), PortRef(infer, "loras", False))
    window.scene.select_nodes([infer])
    listing = window.inspector.order_lists["loras"]
    assert [listing.item(i).text() for i in range(listing.count())] == [f"1. {a}.lora", f"2. {b}.lora"]
    listing.setCurrentRow(1)
    window.inspector.findChild(type(window.run_panel.run_button), "order_up_loras").click()
    assert [lk.from_.node for lk in window.workflow.links_into(infer, "loras")] == [b, a]
    assert [listing.item(i).text() for i in range(listing.count())] == [f"1. {b}.lora", f"2. {a}.lora"]
    orders = {window.scene.wires[lk.id].order for lk in window.workflow.links}
    assert orders == {1, 2}  # the wires show their order on the canvas
    window.stack.undo()
    assert [lk.from_.node for lk in window.workflow.links_into(infer, "loras")] == [a, b]


def test_path_picker_stores_a_path_relative_to_the_workflow(window, tmp_path) -> None:
    from app.editor.param_widgets import PathEditor

    node = window.editor.add_node("load_image", (0, 0))
    window.model.set_base_dir(tmp_path)
    window.inspector.show_node(None)
    window.scene.select_nodes([node])
    editor = row(window, "path").editor
    assert isinstance(editor, PathEditor)
    (tmp_path / "img").mkdir()
    editor.choose(str(tmp_path / "img" / "a.png"))
    assert window.workflow.nodes[node].params["path"] == "img/a.png"
