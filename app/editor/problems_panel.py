"""The problems panel: every diagnostic of the graph; clicking one selects and centres its node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from graph_runtime.validate import Diagnostic

COLORS = {"error": QColor("#e5484d"), "warning": QColor("#d99a2b")}


class ProblemsPanel(QTreeWidget):
    node_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(4)
        self.setHeaderLabels(["", "Node", "Field", "Problem"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setColumnWidth(0, 70)
        self.setColumnWidth(1, 150)
        self.setColumnWidth(2, 110)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.diagnostics: list[Diagnostic] = []

    def set_diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        self.clear()
        for d in sorted(diagnostics, key=lambda d: d.severity != "error"):
            item = QTreeWidgetItem([d.severity, d.node_id or "(graph)", d.field or "", d.message])
            item.setForeground(0, COLORS.get(d.severity, QColor("#cccccc")))
            item.setData(0, Qt.ItemDataRole.UserRole, d.node_id)
            item.setToolTip(3, f"{d.message}\n[{d.code}]")
            self.addTopLevelItem(item)

    def counts(self) -> tuple[int, int]:
        errors = sum(d.severity == "error" for d in self.diagnostics)
        return errors, len(self.diagnostics) - errors

    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        node_id = item.data(0, Qt.ItemDataRole.UserRole)
        if node_id:
            self.node_chosen.emit(str(node_id))
