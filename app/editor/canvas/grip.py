"""The resize grip in the bottom-right corner of groups and notes."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter, QPen

from app.editor.canvas import style


def grip_rect(width: float, height: float) -> QRectF:
    size = style.HANDLE_SIZE
    return QRectF(width - size, height - size, size, size)


def paint_grip(painter: QPainter, width: float, height: float) -> None:
    """Three short diagonal strokes, as in the corner of a window."""
    painter.setPen(QPen(style.HANDLE, 1.2))
    for offset in (4.0, 8.0, 12.0):
        painter.drawLine(QPointF(width - offset, height - 2), QPointF(width - 2, height - offset))
