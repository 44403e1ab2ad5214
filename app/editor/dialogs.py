"""Small dialogs: load errors (every problem, never a traceback) and the questions the editor asks."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from graph_runtime.problems import WorkflowLoadError


def load_error_box(parent: QWidget, what: str, error: WorkflowLoadError) -> QMessageBox:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Cannot open workflow")
    n = len(error.problems)
    box.setText(f"{what} cannot be opened: {n} problem{'s' if n != 1 else ''}.")
    box.setInformativeText("\n".join(f"• {p}" for p in error.problems[:12]) + ("\n…" if n > 12 else ""))
    box.setDetailedText("\n".join(str(p) for p in error.problems))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    return box
