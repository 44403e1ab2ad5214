"""A group: a titled frame behind its nodes. Dragging it carries the nodes and notes inside it; dragging the
grip in its corner resizes the frame alone."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from app.editor.canvas import style
from app.editor.canvas.grip import grip_rect, paint_grip
from graph_runtime.document import Group

TITLE_HEIGHT = 34.0


def title_font(lod: float = 1.0) -> QFont:
    """Larger when zoomed out, so the title stays readable from afar."""
    return style.ui_font(12 if lod > 0.6 else 16, bold=True)


class GroupItem(QGraphicsItem):
    def __init__(self, group: Group) -> None:
        super().__init__()
        self.group_id = group.id
        self.title = ""
        self.width = 0.0
        self.height = 0.0
        self.fill = QColor()
        self.band = QColor()
        self.carried: list[QGraphicsItem] = []  # nodes and notes moving along during one drag (set on press)
        self._last_pos = QPointF()
        self._resize_from: tuple[float, float] | None = None  # the size when a grip drag began
        self._grab = QPointF()  # where in the grip it was taken, kept during the drag
        self.setZValue(-10)
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        self.update_from(group)

    def update_from(self, group: Group) -> None:
        x, y, w, h = group.rect
        self._set_size(w, h)
        self.title = group.title
        self.fill, self.band = style.group_colors(group.color)
        if self.pos() != QPointF(x, y):
            self.setPos(x, y)
        self._last_pos = self.pos()
        self.update()

    def _set_size(self, w: float, h: float) -> None:
        if (w, h) != (self.width, self.height):
            self.prepareGeometryChange()
            self.width, self.height = w, h

    def rect_tuple(self) -> tuple[float, float, float, float]:
        return (round(self.pos().x(), 1), round(self.pos().y(), 1), self.width, self.height)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.width, self.height)

    def title_rect(self) -> QRectF:
        """The title band in scene coordinates (where the inline rename goes)."""
        return self.mapRectToScene(QRectF(8, 4, max(60.0, self.width - 16), TITLE_HEIGHT - 8))

    def begin_carry(self, items: list[QGraphicsItem]) -> None:
        self.carried = items
        self._last_pos = self.pos()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            delta = self.pos() - self._last_pos
            self._last_pos = self.pos()
            for item in self.carried:
                item.moveBy(delta.x(), delta.y())
        return super().itemChange(change, value)

    # ------------------------------------------------------------------ the grip

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if grip_rect(self.width, self.height).contains(event.pos()):
            self.setCursor(Qt.CursorShape.SizeFDiagCursor)
        else:
            self.unsetCursor()
        super().hoverMoveEvent(event)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and grip_rect(self.width, self.height).contains(event.pos()):
            self._resize_from = (self.width, self.height)
            self._grab = QPointF(self.width, self.height) - event.pos()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._resize_from is not None:
            min_w, min_h = style.GROUP_MIN_SIZE
            corner = event.pos() + self._grab
            self._set_size(max(min_w, round(corner.x())), max(min_h, round(corner.y())))
            self.update()
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._resize_from is not None:
            start, self._resize_from = self._resize_from, None
            scene: Any = self.scene()
            if (self.width, self.height) != start and scene is not None:
                scene.group_resized.emit(self.group_id, float(self.width), float(self.height))
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # ------------------------------------------------------------------ painting

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        rect = self.boundingRect()
        painter.setPen(QPen(style.NODE_SELECTED if self.isSelected() else self.band, 1.5))
        painter.setBrush(self.fill)
        painter.drawRoundedRect(rect, 8, 8)
        painter.fillRect(QRectF(1, 1, self.width - 2, TITLE_HEIGHT - 1), self.band)
        if lod > 0.3:
            painter.setPen(style.TEXT)
            painter.setFont(title_font(lod))
            painter.drawText(
                QRectF(12, 0, self.width - 24, TITLE_HEIGHT),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                self.title,
            )
            paint_grip(painter, self.width, self.height)
