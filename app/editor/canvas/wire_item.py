"""A wire: a cubic Bezier whose tangents grow with the horizontal distance, easy to click.

Painting and bounds stay in C++ (QGraphicsPathItem's own): with a thousand wires, a Python paint or
boundingRect override is what makes panning slow. Only the click shape is computed here, once per route.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

from app.editor.canvas import style

CLICK_WIDTH = 14.0
WIDTH = 2.5
SELECTED_WIDTH = 4.5


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    dx = max(abs(end.x() - start.x()) * 0.5, 40.0)
    path = QPainterPath(start)
    path.cubicTo(start + QPointF(dx, 0), end - QPointF(dx, 0), end)
    return path


class WireItem(QGraphicsPathItem):
    def __init__(self, link_id: str, color: QColor) -> None:
        super().__init__()
        self.link_id = link_id
        self.color = color
        self.order: int | None = None  # position on a list input (1-based), shown when it has several wires
        self._shape: QPainterPath | None = None
        self._badge: QGraphicsEllipseItem | None = None
        self.setZValue(-1)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self._apply_pen()

    def _apply_pen(self) -> None:
        selected = self.isSelected()
        color = self.color.lighter(150) if selected else self.color
        pen = QPen(color, SELECTED_WIDTH if selected else WIDTH)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self.setPen(pen)

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        self._shape = None
        self.setPath(wire_path(start, end))
        self._place_badge()

    def set_order(self, order: int | None) -> None:
        if order == self.order:
            return
        self.order = order
        if order is None:
            if self._badge is not None:
                self._badge.setParentItem(None)
                if self.scene() is not None:
                    self.scene().removeItem(self._badge)
                self._badge = None
            return
        if self._badge is None:
            self._badge = QGraphicsEllipseItem(QRectF(-8, -8, 16, 16), self)
            self._badge.setBrush(QBrush(self.color))
            self._badge.setPen(QPen(QColor("#101010"), 1))
            label = QGraphicsSimpleTextItem(self._badge)
            label.setFont(style.ui_font(7.5, bold=True))
            label.setBrush(QBrush(QColor("#101010")))
        label = self._badge.childItems()[0]
        assert isinstance(label, QGraphicsSimpleTextItem)
        label.setText(str(order))
        rect = label.boundingRect()
        label.setPos(-rect.width() / 2, -rect.height() / 2)
        self._place_badge()

    def _place_badge(self) -> None:
        if self._badge is not None:
            self._badge.setPos(self.path().pointAtPercent(0.88))

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(CLICK_WIDTH)
            self._shape = stroker.createStroke(self.path())
        return self._shape

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self._apply_pen()
        return super().itemChange(change, value)
