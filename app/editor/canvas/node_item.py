"""A node on the canvas: painted in one item (no child widgets, no proxies) so thousands stay cheap.

Ports are drawn circles, hit-tested by geometry; text is dropped when zoomed out (level of detail), and the
item is cached in device coordinates, so panning repaints a pixmap rather than the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImageReader, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QStyleOptionGraphicsItem, QWidget

from app.editor.canvas import style
from graph_runtime.document import Node
from graph_runtime.params import Kind, Param
from graph_runtime.registry import NodeType

if TYPE_CHECKING:
    from graph_runtime.validate import Diagnostic

MAX_THUMBS = 3
_WHITE = QColor("white")
LOD_TEXT = 0.45  # below this zoom the node is drawn as coloured boxes only


@dataclass(frozen=True, slots=True)
class PortFace:
    """How one port is drawn: fixed per node type, so it is worked out once, not in every paint."""

    name: str
    is_output: bool
    center: QPointF
    color: QColor
    label: str  # elided to fit
    label_rect: QRectF
    align: Qt.AlignmentFlag
    required: bool
    many: bool


_PORT_FACES: dict[str, list[PortFace]] = {}


def port_faces(node_type: NodeType, font: QFont) -> list[PortFace]:
    faces = _PORT_FACES.get(node_type.id)
    if faces is None:
        metrics = QFontMetricsF(font)
        half = style.NODE_WIDTH / 2 - 14
        faces = []
        for is_output, ports in ((False, node_type.inputs), (True, node_type.outputs)):
            for index, port in enumerate(ports):
                y = style.HEADER_HEIGHT + 6 + style.PORT_ROW * index + style.PORT_ROW / 2
                center = QPointF(style.NODE_WIDTH if is_output else 0.0, y)
                label = metrics.elidedText(port.name.replace("_", " "), Qt.TextElideMode.ElideRight, half)
                rect = QRectF(style.NODE_WIDTH / 2 + 2 if is_output else 12, y - 9, half, 18)
                align = Qt.AlignmentFlag.AlignRight if is_output else Qt.AlignmentFlag.AlignLeft
                face = PortFace(
                    port.name,
                    is_output,
                    center,
                    style.port_color(port.type),
                    label,
                    rect,
                    align | Qt.AlignmentFlag.AlignVCenter,
                    is_output or port.required,
                    not is_output and port.many,
                )
                faces.append(face)
        _PORT_FACES[node_type.id] = faces
    return faces


_HEADER_PATH: list[QPainterPath] = []


def _header_path() -> QPainterPath:
    """The title bar's shape: rounded on top only (the same for every node, so made once)."""
    if not _HEADER_PATH:
        rounded = QPainterPath()
        rounded.addRoundedRect(QRectF(0, 0, style.NODE_WIDTH, style.HEADER_HEIGHT), 6, 6)
        bottom = QPainterPath()
        bottom.addRect(QRectF(0, style.HEADER_HEIGHT / 2, style.NODE_WIDTH, style.HEADER_HEIGHT / 2))
        _HEADER_PATH.append(rounded.united(bottom))
    return _HEADER_PATH[0]


def format_value(param: Param, value: Any, is_set: bool) -> str:
    """How a parameter reads on the node face."""
    if not is_set:
        if param.kind is Kind.SEED:
            return "random"
        return f"{param.default}" if param.default not in (None, "") else "(unset)"
    if param.kind is Kind.TEXT or isinstance(value, str):
        return " ".join(str(value).split())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class NodeItem(QGraphicsRectItem):
    # A rect item so that Qt computes the bounds in C++: with a thousand nodes a Python boundingRect
    # override is called thousands of times per frame. The rectangle is not drawn; paint() draws the node.

    def __init__(self, node_id: str, node: Node, node_type: NodeType) -> None:
        super().__init__()
        self.setPen(Qt.PenStyle.NoPen)
        self.node_id = node_id
        self.node_type = node_type
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(False)
        self.title = ""
        self.color = QColor()
        self.collapsed = False  # drawn as its title bar alone, every port stacked at the edges
        self.summary: list[tuple[str, str, bool]] = []  # name, value text, is_set
        self.connected: set[tuple[bool, str]] = set()
        self.link_counts: dict[str, int] = {}
        self.port_marks: dict[tuple[bool, str], str] | None = None  # while a wire is dragged: "ok" or "dim"
        self.state: str | None = None
        self.state_text = ""
        self.error_lines: list[str] = []
        self.diagnostics: list[Diagnostic] = []
        self.thumbnails: list[QPixmap] = []
        self.image_paths: list[str] = []
        self.height = style.HEADER_HEIGHT
        self._rows = max(len(node_type.inputs), len(node_type.outputs))
        self.faces = port_faces(node_type, self._font("port"))
        self._centers = {(f.is_output, f.name): f.center for f in self.faces}
        self._summary_faces: list[tuple[QRectF, str, QRectF, str, bool]] = []  # laid out once per change
        self._title_text: tuple[tuple[str, float], str] = (("", -1.0), "")  # (title, room) -> elided title
        self.update_from(node)

    # ------------------------------------------------------------------ content

    def update_from(self, node: Node) -> None:
        self.title = node.title or self.node_type.title
        self.color = style.node_color(self.node_type, node.color)
        self.collapsed = bool(node.collapsed)
        self.summary = []
        for name in self.node_type.summary:
            param = self.node_type.param(name)
            assert param is not None
            is_set = name in node.params
            if not is_set and param.default in (None, "") and param.kind is not Kind.SEED:
                continue  # nothing worth a line: an unset field with no default
            self.summary.append((name, format_value(param, node.params.get(name), is_set), is_set))
        self._layout_summary()
        self._relayout()

    def _layout_summary(self) -> None:
        metrics = QFontMetricsF(self._font("small"))
        y = style.HEADER_HEIGHT + 6 + self._rows * style.PORT_ROW + 4
        self._summary_faces = []
        for name, value, is_set in self.summary:
            name_w = metrics.horizontalAdvance(name + ": ")
            avail = style.NODE_WIDTH - 20 - name_w
            self._summary_faces.append(
                (
                    QRectF(10, y, name_w + 2, style.SUMMARY_LINE),
                    name + ":",
                    QRectF(10 + name_w, y, avail, style.SUMMARY_LINE),
                    metrics.elidedText(value, Qt.TextElideMode.ElideRight, avail),
                    is_set,
                )
            )
            y += style.SUMMARY_LINE

    def set_state(self, state: str | None, text: str = "", error: str = "") -> None:
        self.state = state
        self.state_text = text or (state or "")
        self.error_lines = _wrap(error, 38, 4) if error else []
        self._relayout()

    def set_images(self, paths: list[str]) -> None:
        self.image_paths = list(paths)
        self.thumbnails = []
        for path in paths[-MAX_THUMBS:]:
            reader = QImageReader(str(path))
            size = reader.size()
            if size.isValid() and size.width() > 0 and size.height() > 0:
                scale = style.THUMB / max(size.width(), size.height())
                reader.setScaledSize(QSize(max(1, round(size.width() * scale)), max(1, round(size.height() * scale))))
            image = reader.read()
            if not image.isNull():
                self.thumbnails.append(QPixmap.fromImage(image))
        self._relayout()

    def set_diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        lines = [self.node_type.description]
        lines += [f"{d.severity}: {d.message}" for d in diagnostics]
        self.setToolTip("\n".join(lines))
        self.update()

    def set_port_marks(self, marks: dict[tuple[bool, str], str] | None) -> None:
        if marks != self.port_marks:
            self.port_marks = marks
            self.update()

    def set_connections(self, connected: set[tuple[bool, str]], link_counts: dict[str, int]) -> None:
        if connected != self.connected or link_counts != self.link_counts:
            self.connected = connected
            self.link_counts = link_counts
            self.update()

    def _relayout(self) -> None:
        height = self._full_height() if not self.collapsed else style.HEADER_HEIGHT
        if height != self.height or self.rect().isEmpty():
            self.height = height
            # room for the port circles on the edges and the diagnostics badge on the corner
            self.setRect(QRectF(-12, -12, style.NODE_WIDTH + 24, height + 24))
        self.update()

    def _full_height(self) -> float:
        height = style.HEADER_HEIGHT + 6 + self._rows * style.PORT_ROW
        if self.summary:
            height += 4 + len(self.summary) * style.SUMMARY_LINE
        if self.error_lines:
            height += 4 + len(self.error_lines) * 15
        if self.thumbnails:
            height += 6 + style.THUMB
        return height + 8

    # ------------------------------------------------------------------ geometry

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(QRectF(-style.PORT_HIT, 0, style.NODE_WIDTH + 2 * style.PORT_HIT, self.height))
        return path

    def body_rect(self) -> QRectF:
        return QRectF(0, 0, style.NODE_WIDTH, self.height)

    def title_rect(self) -> QRectF:
        """The title bar in scene coordinates (where the inline rename goes)."""
        return self.mapRectToScene(QRectF(4, 3, style.NODE_WIDTH - 8, style.HEADER_HEIGHT - 6))

    def port_pos(self, name: str, is_output: bool) -> QPointF:
        if self.collapsed:  # every port at the middle of its edge of the title bar
            return QPointF(style.NODE_WIDTH if is_output else 0.0, style.HEADER_HEIGHT / 2)
        center = self._centers.get((is_output, name))
        if center is None:  # an unknown port: where the first one of that side is
            y = style.HEADER_HEIGHT + 6 + style.PORT_ROW / 2
            return QPointF(style.NODE_WIDTH if is_output else 0.0, y)
        return QPointF(center)

    def port_scene_pos(self, name: str, is_output: bool) -> QPointF:
        return self.mapToScene(self.port_pos(name, is_output))

    def port_at(self, local: QPointF) -> tuple[str, bool] | None:
        """The port (name, is_output) under a local point, with a generous radius."""
        best: tuple[float, tuple[str, bool]] | None = None
        for is_output, ports in ((False, self.node_type.inputs), (True, self.node_type.outputs)):
            for port in ports:
                p = self.port_pos(port.name, is_output)
                d = (p.x() - local.x()) ** 2 + (p.y() - local.y()) ** 2
                if d <= style.PORT_HIT**2 and (best is None or d < best[0]):
                    best = (d, (port.name, is_output))
        return best[1] if best else None

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            scene = self.scene()
            if scene is not None and hasattr(scene, "node_item_moved"):
                scene.node_item_moved(self)
        return super().itemChange(change, value)

    # ------------------------------------------------------------------ painting

    _fonts: ClassVar[dict[str, Any]] = {}

    @classmethod
    def _font(cls, key: str) -> Any:
        if key not in cls._fonts:
            cls._fonts[key] = {
                "title": style.ui_font(9.5, bold=True),
                "port": style.ui_font(8.5),
                "small": style.ui_font(8),
                "badge": style.ui_font(8, bold=True),
            }[key]
        return cls._fonts[key]

    @classmethod
    def title_font(cls) -> Any:
        return cls._font("title")

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        body = self.body_rect()
        selected = self.isSelected()
        border = QPen(style.NODE_SELECTED if selected else style.NODE_BORDER, 2.0 if selected else 1.0)
        if self.state == "failed":
            border = QPen(style.ERROR, 2.5)
        header = QRectF(0, 0, style.NODE_WIDTH, style.HEADER_HEIGHT)

        if lod < LOD_TEXT:  # zoomed out: boxes and colours only
            painter.setPen(border)
            painter.setBrush(style.NODE_BODY)
            painter.drawRect(body)
            painter.fillRect(header.intersected(body), self.color.darker(130))
            if self.state in style.STATE_COLORS:
                painter.fillRect(QRectF(0, style.HEADER_HEIGHT, style.NODE_WIDTH, 6), style.STATE_COLORS[self.state])
            if any(d.severity == "error" for d in self.diagnostics):
                painter.fillRect(QRectF(0, 0, 24, style.HEADER_HEIGHT), style.ERROR)
            return

        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.collapsed:
            self._paint_collapsed(painter, border)
            return
        painter.setPen(border)
        painter.setBrush(style.NODE_BODY)
        painter.drawRoundedRect(body, 6, 6)
        painter.fillPath(_header_path(), self.color.darker(150))
        painter.fillRect(QRectF(0, style.HEADER_HEIGHT - 3, style.NODE_WIDTH, 3), self.color)

        # title and run state
        painter.setFont(self._font("title"))
        pill_w = 0.0
        if self.state:
            painter.setFont(self._font("small"))
            fm_small = QFontMetricsF(self._font("small"))
            pill_w = fm_small.horizontalAdvance(self.state_text) + 12
            pill = QRectF(style.NODE_WIDTH - pill_w - 6, 6, pill_w, style.HEADER_HEIGHT - 13)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(style.STATE_COLORS.get(self.state, style.TEXT_DIM))
            painter.drawRoundedRect(pill, 7, 7)
            painter.setPen(QColor("white"))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, self.state_text)
            painter.setFont(self._font("title"))
        room = style.NODE_WIDTH - 20 - pill_w
        if self._title_text[0] != (self.title, room):
            elided = QFontMetricsF(self._font("title")).elidedText(self.title, Qt.TextElideMode.ElideRight, room)
            self._title_text = ((self.title, room), elided)
        painter.setPen(style.TEXT)
        painter.drawText(
            QRectF(10, 0, room, style.HEADER_HEIGHT - 2),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            self._title_text[1],
        )

        # ports
        painter.setFont(self._font("port"))
        marks = self.port_marks
        for face in self.faces:
            key = (face.is_output, face.name)
            mark = marks.get(key) if marks is not None else None
            color = face.color
            if marks is not None and mark != "ok":
                color = QColor(color)
                color.setAlpha(55)
            radius = style.PORT_RADIUS + (2 if mark == "ok" else 0)
            if not face.required:
                painter.setPen(QPen(color, 1.5))
            else:
                painter.setPen(QPen(_WHITE if mark == "ok" else color.darker(160), 1.5))
            painter.setBrush(color if key in self.connected or mark == "ok" else style.NODE_BODY)
            center = face.center
            if face.many:  # a list port: a square says "takes many, in order"
                painter.drawRoundedRect(QRectF(center.x() - radius, center.y() - radius, 2 * radius, 2 * radius), 2, 2)
            else:
                painter.drawEllipse(center, radius, radius)
            label = face.label
            if face.many and self.link_counts.get(face.name):
                label = QFontMetricsF(self._font("port")).elidedText(
                    f"{face.name.replace('_', ' ')} ({self.link_counts[face.name]})",
                    Qt.TextElideMode.ElideRight,
                    face.label_rect.width(),
                )
            if marks is None:
                painter.setPen(style.TEXT)
            else:
                text_color = QColor(style.TEXT if mark != "dim" else style.TEXT_DIM)
                if mark != "ok":
                    text_color.setAlpha(90)
                painter.setPen(text_color)
            painter.drawText(face.label_rect, face.align, label)

        # key parameters
        y = style.HEADER_HEIGHT + 6 + self._rows * style.PORT_ROW
        if self.summary:
            y += 4
            painter.setPen(QPen(style.NODE_BORDER))
            painter.drawLine(QPointF(8, y - 3), QPointF(style.NODE_WIDTH - 8, y - 3))
            painter.setFont(self._font("small"))
            for name_rect, name, value_rect, value, is_set in self._summary_faces:
                painter.setPen(style.TEXT_DIM)
                painter.drawText(name_rect, Qt.AlignmentFlag.AlignVCenter, name)
                painter.setPen(style.TEXT if is_set else style.TEXT_DIM)
                painter.drawText(value_rect, Qt.AlignmentFlag.AlignVCenter, value)
            y += len(self._summary_faces) * style.SUMMARY_LINE
        if self.error_lines:
            y += 4
            painter.setFont(self._font("small"))
            painter.setPen(style.ERROR.lighter(130))
            for line in self.error_lines:
                painter.drawText(QRectF(10, y, style.NODE_WIDTH - 20, 15), Qt.AlignmentFlag.AlignVCenter, line)
                y += 15
        if self.thumbnails:
            y += 6
            x = 10.0
            for pixmap in self.thumbnails:
                painter.drawPixmap(QPointF(x, y), pixmap)
                x += pixmap.width() + 6

        self._paint_badge(painter)

    def _paint_collapsed(self, painter: QPainter, border: QPen) -> None:
        """The title bar alone, with one port mark per side standing for all of that side's ports."""
        header = QRectF(0, 0, style.NODE_WIDTH, style.HEADER_HEIGHT)
        painter.setPen(border)
        painter.setBrush(self.color.darker(150))
        painter.drawRoundedRect(header, 6, 6)
        painter.setFont(self._font("title"))
        painter.setPen(style.TEXT)
        fm = QFontMetricsF(self._font("title"))
        text = fm.elidedText("▸ " + self.title, Qt.TextElideMode.ElideRight, style.NODE_WIDTH - 24)
        painter.drawText(header.adjusted(10, 0, -12, -1), Qt.AlignmentFlag.AlignVCenter, text)
        if self.state in style.STATE_COLORS:  # run state as a stripe, since there is no room for the pill
            painter.fillRect(
                QRectF(6, style.HEADER_HEIGHT - 3, style.NODE_WIDTH - 12, 3), style.STATE_COLORS[self.state]
            )
        for is_output, ports in ((False, self.node_type.inputs), (True, self.node_type.outputs)):
            if not ports:
                continue
            color = style.port_color(ports[0].type)
            filled = any(key[0] == is_output for key in self.connected)
            painter.setPen(QPen(color.darker(160), 1.5))
            painter.setBrush(color if filled else style.NODE_BODY)
            radius = style.PORT_RADIUS - (0 if len(ports) == 1 else 1)
            painter.drawEllipse(self.port_pos(ports[0].name, is_output), radius, radius)
        self._paint_badge(painter)

    def _paint_badge(self, painter: QPainter) -> None:
        """The diagnostics count on the top-left corner."""
        errors = sum(d.severity == "error" for d in self.diagnostics)
        warnings = len(self.diagnostics) - errors
        if errors or warnings:
            painter.setPen(QPen(QColor("#101010"), 1))
            painter.setBrush(QBrush(style.ERROR if errors else style.WARNING))
            painter.drawEllipse(QPointF(0, 0), 9, 9)
            painter.setPen(QColor("white"))
            painter.setFont(self._font("badge"))
            painter.drawText(QRectF(-9, -9, 18, 18), Qt.AlignmentFlag.AlignCenter, str(errors or warnings))


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return lines


def image_paths_exist(paths: list[str]) -> list[str]:
    return [p for p in paths if Path(p).is_file()]
