"""The canvas view: zoom to the cursor, pan with the middle button or space-drag, fit, rubber-band select."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QWidget

from app.editor.canvas.group_item import TITLE_HEIGHT, GroupItem
from app.editor.canvas.inline_editor import InlineEditor
from app.editor.canvas.note_item import NoteItem
from app.editor.canvas.scene import GraphScene

MIN_ZOOM = 0.05
MAX_ZOOM = 3.0
ZOOM_SETTLE_MS = 250  # item caches come back this long after the last zoom step


class GraphView(QGraphicsView):
    palette_requested = Signal(QPointF)  # where a new node would go, in scene coordinates
    group_title_requested = Signal(str)
    node_activated = Signal(str)
    context_menu_requested = Signal(QPointF, QPoint)  # scene point, global screen point

    def __init__(self, scene: GraphScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # files dropped here go to the main window
        self._pan_from: QPoint | None = None
        self._space = False
        self._zooming = False  # inside zoom_by: the scroll that keeps the anchor still is not a pan
        self._uncached = False  # item caches are off for a zoom gesture
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(ZOOM_SETTLE_MS)
        self._settle.timeout.connect(self._restore_caches)

    @property
    def graph_scene(self) -> GraphScene:
        scene = self.scene()
        assert isinstance(scene, GraphScene)
        return scene

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        factor = target / self.zoom()
        if abs(factor - 1.0) > 1e-6:
            if not self._uncached:  # zoom frames repaint every item anyway: skip making pixmaps of them
                self.graph_scene.set_item_caches(False)
                self._uncached = True
            self._settle.start()
            self._zooming = True
            try:
                self.scale(factor, factor)
            finally:
                self._zooming = False

    def _restore_caches(self) -> None:
        self._settle.stop()
        scene = self.scene()
        if self._uncached and isinstance(scene, GraphScene):  # the scene may be gone while the window closes
            self._uncached = False
            scene.set_item_caches(True)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        if self._uncached and not self._zooming:  # a pan: cached pixmaps make it cheap again
            self._restore_caches()
        super().scrollContentsBy(dx, dy)

    def fit_all(self) -> None:
        rect = self.graph_scene.itemsBoundingRect()
        if rect.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        self.fitInView(rect.adjusted(-60, -60, 60, 60), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:  # small graphs: show them at natural size rather than blown up
            self.zoom_by(1.0 / self.zoom())
            self.centerOn(rect.center())

    def cursor_scene_pos(self) -> QPointF:
        local = self.viewport().mapFromGlobal(self.cursor().pos())
        if not self.viewport().rect().contains(local):
            local = self.viewport().rect().center()
        return self.mapToScene(local)

    # ------------------------------------------------------------------ input

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15**steps)
        event.accept()

    def editing_text(self) -> bool:
        """Whether an in-place text editor has the keyboard (then keys are text, not canvas commands)."""
        return self.graph_scene.inline is not None and self.graph_scene.focusItem() is self.graph_scene.inline

    def event(self, event: QEvent) -> bool:
        # Tab opens the palette rather than moving focus to the next widget.
        is_key = event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
        if is_key and self.editing_text():
            return super().event(event)
        if is_key and event.key() == Qt.Key.Key_Tab and not event.modifiers():
            self.palette_requested.emit(self.cursor_scene_pos())
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.editing_text():
            super().keyPressEvent(event)
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == Qt.Key.Key_Escape:
            self.graph_scene.cancel_wire_drag()
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat() and self._space:
            self._space = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        panning = event.button() == Qt.MouseButton.MiddleButton or (
            self._space and event.button() == Qt.MouseButton.LeftButton
        )
        if panning:
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            now = event.position().toPoint()
            delta = now - self._pan_from
            self._pan_from = now
            self.pan_by(delta.x(), delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            if self._space:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the view by (dx, dy) pixels, as a hand drag does."""
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(dx))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(dy))

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self.editing_text():  # the text field's own menu (cut, copy, paste)
            super().contextMenuEvent(event)
            return
        self.context_menu_requested.emit(self.mapToScene(event.pos()), event.globalPos())
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = self.mapToScene(event.position().toPoint())
        item = self.itemAt(event.position().toPoint())
        if isinstance(item, InlineEditor):  # a double-click in the text selects a word
            super().mouseDoubleClickEvent(event)
            return
        if isinstance(item, NoteItem):
            self.graph_scene.edit_note(item.note_id)
            event.accept()
            return
        if item is None or (
            isinstance(item, GroupItem)
            and self.graph_scene.node_at(pos) is None
            and item.mapFromScene(pos).y() > TITLE_HEIGHT
        ):
            self.palette_requested.emit(pos)
            event.accept()
            return
        if isinstance(item, GroupItem) and item.mapFromScene(pos).y() <= TITLE_HEIGHT:
            self.group_title_requested.emit(item.group_id)
            event.accept()
            return
        node = self.graph_scene.node_at(pos)
        if node is not None:
            self.node_activated.emit(node.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)
