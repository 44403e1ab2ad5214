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
GROUP_BASE = QColor(110, 130, 160)  # a group without a colour of its own
GROUP_FILL_ALPHA = 40
GROUP_TITLE_ALPHA = 110
NOTE_FILL = QColor(240, 214, 120, 48)  # sticky-note yellow, faint enough to read the grid through
NOTE_BORDER = QColor(240, 214, 120, 120)
NOTE_TEXT = QColor("#efe6c8")
NOTE_EDIT_FILL = QColor("#3b3729")  # opaque: the inline editor covers the note's own text
EDIT_FILL = QColor("#23272d")  # behind an inline title editor
HANDLE = QColor(255, 255, 255, 90)  # the resize grip on groups and notes

#: The colours offered for nodes and groups (name, #rrggbb): one palette, so the two match.
PALETTE: list[tuple[str, str]] = [
    ("Red", "#c8494d"),
    ("Orange", "#d07a34"),
    ("Yellow", "#c9a93a"),
    ("Green", "#3f9a5a"),
    ("Teal", "#2f9890"),
    ("Blue", "#3c78c8"),
    ("Purple", "#8160c8"),
    ("Pink", "#c0568f"),
    ("Grey", "#6b7280"),
]

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
NOTE_WIDTH = 220.0  # a note without a width of its own
NOTE_MIN_WIDTH = 80.0
NOTE_PAD = 8.0
GROUP_MIN_SIZE = (120.0, 60.0)
HANDLE_SIZE = 14.0


def port_color(port_type: PortType) -> QColor:
    return QColor(PORT_COLORS[port_type])


def node_color(node_type: NodeType, override: str | None = None) -> QColor:
    """A node's header colour: its own colour if set, else the colour of what it produces (or takes)."""
    if override:
        return QColor(override)
    port = next(iter(node_type.outputs), None) or next(iter(node_type.inputs), None)
    return QColor(PORT_COLORS[port.type]) if port else QColor("#6b7280")


def group_colors(override: str | None = None) -> tuple[QColor, QColor]:
    """A group's body fill and title band: its own colour if set, else the default blue-grey."""
    base = QColor(override) if override else GROUP_BASE
    fill, title = QColor(base), QColor(base)
    fill.setAlpha(GROUP_FILL_ALPHA)
    title.setAlpha(GROUP_TITLE_ALPHA)
    return fill, title


def ui_font(point_size: float = 9.0, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font
