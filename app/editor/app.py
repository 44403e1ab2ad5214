"""Starting the editor: the QApplication, the first window, and the offer to restore a crashed session."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication


def run_editor(path: Path | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Loomware")
    app.setOrganizationName("Loomware")
    app.setStyle("Fusion")
    from app.editor.main_window import MainWindow
    from app.editor.theme import apply_dark_palette

    apply_dark_palette(app)
    window = MainWindow(path)
    window.show()
    if path is None:
        window.offer_restore()
    return app.exec()
