"""Gestures on the canvas: ports mapped from scene to viewport coordinates, and mouse drags between them."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def port_point(window, node_id: str, port: str, is_output: bool) -> QPoint:  # type: ignore[no-untyped-def]
    item = window.scene.nodes[node_id]
    return window.view.mapFromScene(item.port_scene_pos(port, is_output))


def scene_point(window, x: float, y: float) -> QPoint:  # type: ignore[no-untyped-def]
    return window.view.mapFromScene(QPointF(x, y))


def press_move(window, start: QPoint, end: QPoint, steps: int = 4) -> None:  # type: ignore[no-untyped-def]
    viewport = window.view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(viewport, p)
    QApplication.processEvents()


def release(window, end: QPoint) -> None:  # type: ignore[no-untyped-def]
    QTest.mouseRelease(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    QApplication.processEvents()


def drag(window, start: QPoint, end: QPoint) -> None:  # type: ignore[no-untyped-def]
    press_move(window, start, end)
    release(window, end)


def add_from_palette(window, qtbot, query: str, at: tuple[float, float] | None = None) -> str:  # type: ignore[no-untyped-def]
    """Open the palette with Tab (or at a scene point), type, press Enter; returns the new node's id."""
    before = set(window.workflow.nodes)
    if at is not None:
        window.open_palette(QPointF(*at))
    else:
        window.view.setFocus()
        QTest.keyClick(window.view, Qt.Key.Key_Tab)
    assert window.palette.isVisible()
    qtbot.keyClicks(window.palette.search, query)
    QTest.keyClick(window.palette.search, Qt.Key.Key_Return)
    (new,) = set(window.workflow.nodes) - before
    return new


def tiny_png(color: tuple[int, int, int] = (200, 120, 40), size: int = 16) -> bytes:
    """A real, small PNG image."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


def double_click(window, point: QPoint) -> None:  # type: ignore[no-untyped-def]
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    QApplication.processEvents()


def context_menu(window, point: QPoint):  # type: ignore[no-untyped-def]
    """Right-click at a viewport point; returns the menu that opened."""
    from PySide6.QtGui import QContextMenuEvent

    viewport = window.view.viewport()
    QTest.mouseClick(viewport, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, point)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, viewport.mapToGlobal(point))
    QApplication.sendEvent(viewport, event)
    QApplication.processEvents()
    menu = window.last_menu
    assert menu is not None and menu.isVisible()
    return menu


def choose(menu, *path: str) -> None:  # type: ignore[no-untyped-def]
    """Trigger a menu entry by its text (without the & marks), through submenus: choose(menu, "Colour", "Red")."""
    root = menu
    for i, text in enumerate(path):
        action = next(a for a in menu.actions() if a.text().replace("&", "").rstrip("…") == text.rstrip("…"))
        if i < len(path) - 1:
            menu = action.menu()
        else:
            root.hide()  # as a click does: the menu goes, then the action runs
            action.trigger()
    QApplication.processEvents()


def check_undo_redo(window, start: int, before: str) -> str:  # type: ignore[no-untyped-def]
    """Undo back to stack index `start` (the document must equal `before` byte for byte), redo all, and check
    that the canvas mirrors the document. Returns the edited document's text."""
    from graph_runtime.document import dumps

    after = dumps(window.workflow)
    assert after != before
    while window.stack.index() > start:
        window.stack.undo()
    assert dumps(window.workflow) == before
    while window.stack.canRedo():
        window.stack.redo()
    assert dumps(window.workflow) == after
    assert_canvas_mirrors(window)
    return after


def assert_canvas_mirrors(window) -> None:  # type: ignore[no-untyped-def]
    wf = window.workflow
    scene = window.scene
    assert set(scene.nodes) == set(wf.nodes)
    assert set(scene.wires) == {link.id for link in wf.links}
    assert set(scene.groups) == {g.id for g in wf.groups}
    assert set(scene.notes) == {n.id for n in wf.notes}
    for note in wf.notes:
        item = scene.notes[note.id]
        assert (item.pos().x(), item.pos().y()) == tuple(note.position) and item.text == note.text


def save_and_reopen(window, make_window, path):  # type: ignore[no-untyped-def]
    """Save to `path`, open it in a new window, and check the reopened document is identical."""
    from graph_runtime.document import dumps

    assert window.save_as(path)
    other = make_window(path)
    assert dumps(other.workflow) == dumps(window.workflow) == path.read_text()
    assert_canvas_mirrors(other)
    return other


def type_text(window, qtbot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type into whatever has the keyboard on the canvas (an in-place editor)."""
    qtbot.keyClicks(window.view.viewport(), text)
    QApplication.processEvents()


def key(window, k: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    QTest.keyClick(window.view.viewport(), k, modifier)
    QApplication.processEvents()
