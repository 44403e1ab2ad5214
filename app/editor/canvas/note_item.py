"""A note: a sticky note on the canvas, its text word-wrapped at the note's width.

Dragging the grip in the corner changes the width (the height follows the text); the scene turns the end of
the drag into one undoable edit, as it does for moves.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from app.editor.canvas import style
from app.editor.canvas.grip import grip_rect, paint_grip
from graph_runtime.document import Note

PLACEHOLDER = "Double-click to write a note"
MIN_HEIGHT = 36.0
MAX_WIDTH = 2000.0
LOD_TEXT = 0.3  # below this zoom only the paper is drawn
_FLAGS = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop


class NoteItem(QGraphicsItem):
    _font: QFont | None = None  # shared; made on first use (a QFont needs the application)

    def __init__(self, note: Note) -> None:
        super().__init__()
        self.note_id = note.id
        self.text = ""
        self.width = style.NOTE_WIDTH
        self.height = MIN_HEIGHT
        self._resize_from: float | None = None  # the width when a grip drag began
        self._grab = 0.0  # how far left of the right edge the grip was taken, kept during the drag
        self.setZValue(-5)  # above groups, below wires and nodes
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.update_from(note)

    @classmethod
    def text_font(cls) -> QFont:
        if cls._font is None:
            cls._font = style.ui_font(9.5)
        return cls._font

    def update_from(self, note: Note) -> None:
        self.text = note.text
        self._set_width(note.width or style.NOTE_WIDTH)
        x, y = note.position
        if self.pos() != QPointF(x, y):
            self.setPos(x, y)
        self.update()

    def _set_width(self, width: float) -> None:
        pad = style.NOTE_PAD
        metrics = QFontMetricsF(self.text_font())
        text_rect = metrics.boundingRect(QRectF(0, 0, width - 2 * pad, 1e6), _FLAGS, self.text or PLACEHOLDER)
        height = max(MIN_HEIGHT, text_rect.height() + 2 * pad)
        if (width, height) != (self.width, self.height):
            self.prepareGeometryChange()
            self.width, self.height = width, height

    def position_tuple(self) -> tuple[float, float]:
        return (float(round(self.pos().x())), float(round(self.pos().y())))

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.width, self.height)

    def text_rect(self) -> QRectF:
        """Where the text goes, in scene coordinates (the inline editor covers it)."""
        return self.mapRectToScene(self.boundingRect())

    # ------------------------------------------------------------------ the grip

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        on_grip = grip_rect(self.width, self.height).contains(event.pos())
        if on_grip:
            self.setCursor(Qt.CursorShape.SizeHorCursor)
        else:
            self.unsetCursor()
        super().hoverMoveEvent(event)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and grip_rect(self.width, self.height).contains(event.pos()):
            self._resize_from = self.width
            self._grab = self.width - event.pos().x()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._resize_from is not None:
            self._set_width(min(MAX_WIDTH, max(style.NOTE_MIN_WIDTH, round(event.pos().x() + self._grab))))
            self.update()
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._resize_from is not None:
            start, self._resize_from = self._resize_from, None
            scene: Any = self.scene()
            if self.width != start and scene is not None:
                scene.note_resized.emit(self.note_id, float(self.width))
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # ------------------------------------------------------------------ painting

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        rect = self.boundingRect()
        selected = self.isSelected()
        painter.setPen(QPen(style.NODE_SELECTED if selected else style.NOTE_BORDER, 1.5 if selected else 1.0))
        painter.setBrush(style.NOTE_FILL)
        if lod < LOD_TEXT:
            painter.drawRect(rect)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        painter.setFont(self.text_font())
        painter.setPen(style.NOTE_TEXT if self.text else style.TEXT_DIM)
        pad = style.NOTE_PAD
        painter.drawText(rect.adjusted(pad, pad, -pad, -pad), _FLAGS, self.text or PLACEHOLDER)
        paint_grip(painter, self.width, self.height)
