"""The canvas driven by keyboard and mouse: palette, wiring by drag, refusals, moves, selection."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from graph_runtime.document import dumps
from tests.editor.helpers import add_from_palette, drag, port_point, press_move, release, scene_point

pytestmark = pytest.mark.qt


def build_basic(window, qtbot):  # type: ignore[no-untyped-def]
    prompt = add_from_palette(window, qtbot, "prompt", at=(0, 0))
    infer = add_from_palette(window, qtbot, "image inf", at=(400, 0))
    window.view.resetTransform()
    window.view.centerOn(QPointF(300, 120))
    return prompt, infer


def test_tab_opens_palette_and_enter_adds_the_best_match(window, qtbot) -> None:
    node_id = add_from_palette(window, qtbot, "infer")
    assert window.workflow.nodes[node_id].type == "image_inference"
    assert not window.palette.isVisible()
    # initial params come from the declaration (required ones only)
    assert window.workflow.nodes[node_id].params == {"width": 1024, "height": 1024}


def test_palette_is_keyboard_only_arrows_and_escape(window, qtbot) -> None:
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Tab)
    palette = window.palette
    qtbot.keyClicks(palette.search, "image")
    first = palette.list.currentItem().text()
    QTest.keyClick(palette.search, Qt.Key.Key_Down)
    assert palette.list.currentRow() == 1 and palette.list.currentItem().text() != first
    QTest.keyClick(palette.search, Qt.Key.Key_Escape)
    assert not palette.isVisible()
    assert window.workflow.nodes == {}


def test_fuzzy_search_covers_categories_and_descriptions(window, qtbot) -> None:
    from app.editor.palette import matching_node_types

    assert matching_node_types("lra")[0].id == "lora"  # a subsequence of the title
    assert "controlnet_preprocess" in [t.id for t in matching_node_types("canny edges")]  # description words
    assert {t.id for t in matching_node_types("Models")} >= {"model", "vae", "lora"}  # category


def test_connect_by_dragging_between_ports(window, qtbot) -> None:
    prompt, infer = build_basic(window, qtbot)
    before = dumps(window.workflow)
    drag(window, port_point(window, prompt, "text", True), port_point(window, infer, "positive", False))
    (link,) = window.workflow.links
    assert (link.from_.node, link.from_.output, link.to.node, link.to.input) == (prompt, "text", infer, "positive")
    assert link.id in window.scene.wires
    window.stack.undo()
    assert dumps(window.workflow) == before and not window.scene.wires
    window.stack.redo()
    assert len(window.workflow.links) == 1


def test_dragging_from_an_input_to_an_output_also_connects(window, qtbot) -> None:
    prompt, infer = build_basic(window, qtbot)
    drag(window, port_point(window, infer, "negative", False), port_point(window, prompt, "text", True))
    assert [(lk.from_.node, lk.to.input) for lk in window.workflow.links] == [(prompt, "negative")]


def test_compatible_ports_highlight_while_dragging(window, qtbot) -> None:
    prompt, infer = build_basic(window, qtbot)
    start = port_point(window, prompt, "text", True)
    press_move(window, start, start + (port_point(window, infer, "positive", False) - start) / 2)
    marks = window.scene.nodes[infer].port_marks
    assert marks is not None
    assert marks.get((False, "positive")) == "ok" and marks.get((False, "negative")) == "ok"
    assert (False, "model") not in marks  # not "ok": drawn dimmed
    release(window, start)
    assert window.scene.nodes[infer].port_marks is None


def test_incompatible_connection_is_refused_with_a_reason(window, qtbot) -> None:
    prompt, infer = build_basic(window, qtbot)
    drag(window, port_point(window, prompt, "text", True), port_point(window, infer, "model", False))
    assert window.workflow.links == []
    message = window.statusBar().currentMessage()
    assert "Cannot connect" in message and "TEXT" in message and "MODEL" in message


def test_a_cycle_is_refused(window, qtbot) -> None:
    a = add_from_palette(window, qtbot, "controlnet preprocess", at=(0, 0))
    b = add_from_palette(window, qtbot, "controlnet preprocess", at=(400, 0))
    window.view.resetTransform()
    window.view.centerOn(QPointF(300, 80))
    drag(window, port_point(window, a, "guide", True), port_point(window, b, "image", False))
    drag(window, port_point(window, b, "guide", True), port_point(window, a, "image", False))
    assert len(window.workflow.links) == 1
    assert "cycle" in window.statusBar().currentMessage()


def test_wire_dropped_on_empty_canvas_opens_a_filtered_palette_and_wires_the_new_node(window, qtbot) -> None:
    prompt = add_from_palette(window, qtbot, "prompt", at=(0, 0))
    window.view.resetTransform()
    window.view.centerOn(QPointF(300, 100))
    drag(window, port_point(window, prompt, "text", True), scene_point(window, 500, 60))
    palette = window.palette
    assert palette.isVisible()
    offered = {palette.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(palette.list.count())}
    assert offered == {"image_inference"}  # the only node type that takes TEXT
    QTest.keyClick(palette.search, Qt.Key.Key_Return)
    (new,) = set(window.workflow.nodes) - {prompt}
    (link,) = window.workflow.links
    assert (link.from_.node, link.to.node, link.to.input) == (prompt, new, "positive")
    window.stack.undo()  # one step takes back node and wire
    assert set(window.workflow.nodes) == {prompt} and window.workflow.links == []


def test_a_single_input_gets_the_new_wire_in_place_of_the_old(window, qtbot) -> None:
    p1 = add_from_palette(window, qtbot, "prompt", at=(0, 0))
    p2 = add_from_palette(window, qtbot, "prompt", at=(0, 150))
    infer = add_from_palette(window, qtbot, "image inference", at=(400, 0))
    window.view.resetTransform()
    window.view.centerOn(QPointF(300, 150))
    drag(window, port_point(window, p1, "text", True), port_point(window, infer, "positive", False))
    drag(window, port_point(window, p2, "text", True), port_point(window, infer, "positive", False))
    assert [lk.from_.node for lk in window.workflow.links] == [p2]
    window.stack.undo()
    assert [lk.from_.node for lk in window.workflow.links] == [p1]


def test_moving_a_node_is_one_undoable_step(window, qtbot) -> None:
    prompt, _ = build_basic(window, qtbot)
    before = dumps(window.workflow)
    item = window.scene.nodes[prompt]
    title = window.view.mapFromScene(item.mapToScene(QPointF(60, 12)))
    drag(window, title, title + QPoint(120, 40))
    x, y = window.workflow.nodes[prompt].position
    assert (x, y) != (0.0, 0.0)
    assert x == pytest.approx(120, abs=2) and y == pytest.approx(40, abs=2)
    window.stack.undo()
    assert dumps(window.workflow) == before
    assert window.scene.nodes[prompt].pos() == QPointF(0, 0)


def test_select_all_delete_and_undo(window, qtbot) -> None:
    prompt, infer = build_basic(window, qtbot)
    drag(window, port_point(window, prompt, "text", True), port_point(window, infer, "positive", False))
    before = dumps(window.workflow)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert set(window.scene.selected_node_ids()) == {prompt, infer}
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert window.workflow.nodes == {} and window.workflow.links == []
    window.stack.undo()
    assert dumps(window.workflow) == before
    assert set(window.scene.nodes) == {prompt, infer} and len(window.scene.wires) == 1


def test_rubber_band_selects_nodes(window, qtbot) -> None:
    prompt, _infer = build_basic(window, qtbot)
    drag(window, scene_point(window, -60, -60), scene_point(window, 300, 200))
    assert window.scene.selected_node_ids() == [prompt]


def test_zoom_and_pan(window, qtbot) -> None:
    build_basic(window, qtbot)
    view = window.view
    zoom = view.zoom()
    view.zoom_by(2.0)
    assert view.zoom() == pytest.approx(zoom * 2)
    centre = view.mapToScene(view.viewport().rect().center())
    view.pan_by(100, 0)
    assert view.mapToScene(view.viewport().rect().center()).x() == pytest.approx(centre.x() - 50, abs=2)
    view.fit_all()
    assert view.zoom() <= 1.0


def test_zooming_drops_item_caches_until_a_pan_or_a_pause(window, qtbot) -> None:
    from PySide6.QtWidgets import QGraphicsItem

    from app.editor.canvas.view import ZOOM_SETTLE_MS

    prompt, _ = build_basic(window, qtbot)
    item = window.scene.nodes[prompt]
    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    window.view.zoom_by(1.1)
    assert item.cacheMode() == QGraphicsItem.CacheMode.NoCache  # every zoom frame repaints anyway
    window.view.pan_by(30, 0)
    assert item.cacheMode() == cached  # panning reuses the pixmaps
    window.view.zoom_by(0.9)
    qtbot.waitUntil(lambda: item.cacheMode() == cached, timeout=ZOOM_SETTLE_MS * 8)
