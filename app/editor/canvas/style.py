"""Canvas colours and metrics. Port and node colours come from graph_runtime.registry.PORT_COLORS."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont

from graph_runtime.registry import PORT_COLORS, NodeType, PortType

BACKGROUND = QColor("#1e2126")
GRID_MINOR = QColor("#262a30")
GRID_MAJOR = QColor("#30353d")
NODE_BODY = QColor("#2d3138")
NODE_BORDER = QColor("#15171a")
NODE_SELECTED = QColor("#f0f0f0")
TEXT = QColor("#e6e6e6")
TEXT_DIM = QColor("#9aa0a8")
ERROR = QColor("#e5484d")
WARNING = QColor("#e5a03c")
GROUP_FILL = QColor(110, 130, 160, 40)
GROUP_TITLE = QColor(110, 130, 160, 110)

STATE_COLORS = {
    "queued": QColor("#7d8590"),
    "running": QColor("#3c8ce0"),
    "cached": QColor("#8c6ee0"),
    "done": QColor("#3fae5a"),
    "failed": ERROR,
    "skipped": QColor("#6b6f76"),
}

NODE_WIDTH = 240.0
HEADER_HEIGHT = 28.0
PORT_ROW = 22.0
PORT_RADIUS = 6.0
PORT_HIT = 11.0
SUMMARY_LINE = 17.0
THUMB = 68.0
GRID = 20.0


def port_color(port_type: PortType) -> QColor:
    return QColor(PORT_COLORS[port_type])


def node_color(node_type: NodeType, override: str | None = None) -> QColor:
    """A node's header colour: its own colour if set, else the colour of what it produces (or takes)."""
    if override:
        return QColor(override)
    port = next(iter(node_type.outputs), None) or next(iter(node_type.inputs), None)
    return QColor(PORT_COLORS[port.type]) if port else QColor("#6b7280")


def ui_font(point_size: float = 9.0, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font
