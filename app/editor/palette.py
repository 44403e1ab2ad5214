"""The node palette: fuzzy search over node names, categories and descriptions, driven by the keyboard.

Opened with Tab or a double-click on empty canvas, or by dropping a wire on empty canvas, in which case it
lists only the node types that can take (or give) the wire's type.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.editor.canvas.style import node_color
from app.editor.fuzzy import best_score
from graph_runtime.registry import NodeType, PortType
from nodes import REGISTRY

ROLE_TYPE_ID = Qt.ItemDataRole.UserRole


def matching_node_types(query: str, port_type: PortType | None = None, wants_input: bool = True) -> list[NodeType]:
    """Node types that match `query`, best first. With a port type, only those with a port of that type
    on the needed side (an input when the wire comes from an output, and vice versa)."""
    found: list[tuple[float, int, NodeType]] = []
    for order, node_type in enumerate(REGISTRY):
        if port_type is not None:
            ports = node_type.inputs if wants_input else node_type.outputs
            if not any(p.type == port_type for p in ports):
                continue
        score = best_score(
            query,
            [(node_type.title, 1.0), (node_type.id, 0.95), (node_type.category, 0.7), (node_type.description, 0.5)],
        )
        if score is not None:
            found.append((score, order, node_type))
    found.sort(key=lambda t: (-t[0], t[1]))
    return [t[2] for t in found]


class NodePalette(QFrame):
    chosen = Signal(str)  # node type id
    dismissed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("NodePalette")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#NodePalette { background: #2b2f36; border: 1px solid #4a5260; border-radius: 6px; }"
            "QLineEdit { background: #1e2126; color: #eee; border: 1px solid #4a5260; padding: 4px; }"
            "QListWidget { background: #2b2f36; color: #ddd; border: none; }"
            "QListWidget::item:selected { background: #3c6ea8; color: white; }"
            "QLabel { color: #9aa0a8; }"
        )
        self.port_type: PortType | None = None
        self.wants_input = True
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search nodes…")
        self.hint = QLabel(self)
        self.list = QListWidget(self)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.hint)
        layout.addWidget(self.list)
        self.resize(340, 320)
        self.search.textChanged.connect(self._refresh)
        self.search.installEventFilter(self)
        self.list.itemClicked.connect(lambda _item: self._accept())
        self.hide()

    def open(self, at: tuple[int, int], port_type: PortType | None = None, wants_input: bool = True) -> None:
        self.port_type = port_type
        self.wants_input = wants_input
        if port_type is None:
            self.hint.setText("Type to search · ↑↓ choose · Enter add · Esc close")
        else:
            side = "take" if wants_input else "give"
            self.hint.setText(f"Nodes that {side} {port_type}")
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._refresh()
        parent = self.parentWidget()
        x, y = at
        if parent is not None:
            x = max(0, min(x, parent.width() - self.width()))
            y = max(0, min(y, parent.height() - self.height()))
        self.move(x, y)
        self.show()
        self.raise_()
        self.search.setFocus()

    def close_palette(self) -> None:
        if self.isVisible():
            self.hide()
            self.dismissed.emit()

    def _refresh(self) -> None:
        self.list.clear()
        for node_type in matching_node_types(self.search.text(), self.port_type, self.wants_input):
            item = QListWidgetItem(f"{node_type.title}    —  {node_type.category}")
            item.setData(ROLE_TYPE_ID, node_type.id)
            item.setToolTip(node_type.description)
            item.setForeground(QColor("#e6e6e6"))
            item.setData(Qt.ItemDataRole.DecorationRole, node_color(node_type))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _accept(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        type_id = str(item.data(ROLE_TYPE_ID))
        self.hide()
        self.chosen.emit(type_id)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 5, Qt.Key.Key_PageUp: -5}[key]
                row = min(max(self.list.currentRow() + step, 0), self.list.count() - 1)
                self.list.setCurrentRow(row)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._accept()
                return True
            if key == Qt.Key.Key_Escape:
                self.close_palette()
                return True
        if watched is self.search and event.type() == QEvent.Type.FocusOut and not self.list.underMouse():
            self.close_palette()
        return super().eventFilter(watched, event)
