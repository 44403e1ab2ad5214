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
