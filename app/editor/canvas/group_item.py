"""A group: a titled frame behind its nodes. Dragging it carries the nodes inside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.editor.canvas import style
from graph_runtime.document import Group

if TYPE_CHECKING:
    from app.editor.canvas.node_item import NodeItem

TITLE_HEIGHT = 34.0


class GroupItem(QGraphicsItem):
    def __init__(self, group: Group) -> None:
        super().__init__()
        self.group_id = group.id
        self.title = ""
        self.width = 0.0
        self.height = 0.0
        self.carried: list[NodeItem] = []  # nodes to move along during one drag (set by the scene on press)
        self._last_pos = QPointF()
        self.setZValue(-10)
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.update_from(group)

    def update_from(self, group: Group) -> None:
        x, y, w, h = group.rect
        if (w, h) != (self.width, self.height):
            self.prepareGeometryChange()
            self.width, self.height = w, h
        self.title = group.title
        if self.pos() != QPointF(x, y):
            self.setPos(x, y)
        self._last_pos = self.pos()
        self.update()

    def rect_tuple(self) -> tuple[float, float, float, float]:
        return (round(self.pos().x(), 1), round(self.pos().y(), 1), self.width, self.height)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.width, self.height)

    def begin_carry(self, nodes: list[NodeItem]) -> None:
        self.carried = nodes
        self._last_pos = self.pos()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            delta = self.pos() - self._last_pos
            self._last_pos = self.pos()
            for node in self.carried:
                node.moveBy(delta.x(), delta.y())
        return super().itemChange(change, value)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        rect = self.boundingRect()
        painter.setPen(QPen(style.NODE_SELECTED if self.isSelected() else style.GROUP_TITLE, 1.5))
        painter.setBrush(style.GROUP_FILL)
        painter.drawRoundedRect(rect, 8, 8)
        painter.fillRect(QRectF(1, 1, self.width - 2, TITLE_HEIGHT - 1), style.GROUP_TITLE)
        if lod > 0.3:
            painter.setPen(style.TEXT)
            painter.setFont(style.ui_font(12 if lod > 0.6 else 16, bold=True))
            painter.drawText(
                QRectF(12, 0, self.width - 24, TITLE_HEIGHT),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                self.title,
            )
