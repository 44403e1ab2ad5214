"""The output gallery: thumbnails of every image a run saved or previewed; click for full size."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

THUMB = 112


def load_thumbnail(path: str, size: int = THUMB) -> QPixmap:
    reader = QImageReader(path)
    original = reader.size()
    if original.isValid() and original.width() > 0 and original.height() > 0:
        scale = size / max(original.width(), original.height())
        reader.setScaledSize(QSize(max(1, round(original.width() * scale)), max(1, round(original.height() * scale))))
    return QPixmap.fromImage(reader.read())


class ImageDialog(QDialog):
    def __init__(self, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(Path(path).name)
        self.path = path
        layout = QVBoxLayout(self)
        scroll = QScrollArea(self)
        label = QLabel()
        label.setPixmap(QPixmap(path))
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll.setWidget(label)
        scroll.setWidgetResizable(True)
        layout.addWidget(scroll)
        row = QHBoxLayout()
        row.addWidget(QLabel(path))
        row.addStretch(1)
        folder = QPushButton("Open folder")
        folder.clicked.connect(lambda: open_folder(self.path))
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(folder)
        row.addWidget(close)
        layout.addLayout(row)
        self.resize(800, 700)


def open_folder(path: str) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))


class Gallery(QWidget):
    image_opened = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.list = QListWidget(self)
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setSpacing(6)
        self.list.itemActivated.connect(self._open)
        self.list.itemDoubleClicked.connect(self._open)
        row = QHBoxLayout()
        self.summary = QLabel("No images yet: run the workflow (Ctrl+Enter).")
        self.open_folder_button = QPushButton("Open folder")
        self.open_folder_button.setEnabled(False)
        self.open_folder_button.clicked.connect(self._open_folder)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        row.addWidget(self.summary, 1)
        row.addWidget(self.open_folder_button)
        row.addWidget(self.clear_button)
        layout.addLayout(row)
        layout.addWidget(self.list)
        self.paths: list[str] = []
        self.list.currentItemChanged.connect(
            lambda *_: self.open_folder_button.setEnabled(bool(self.list.currentItem()))
        )

    def add_image(self, path: str, caption: str = "") -> None:
        if path in self.paths:
            return
        self.paths.append(path)
        item = QListWidgetItem(QIcon(load_thumbnail(path)), caption or Path(path).name)
        item.setToolTip(path)
        item.setData(Qt.ItemDataRole.UserRole, path)
        self.list.addItem(item)
        self.summary.setText(f"{len(self.paths)} image{'s' if len(self.paths) != 1 else ''}")

    def clear(self) -> None:
        self.paths = []
        self.list.clear()
        self.summary.setText("No images yet: run the workflow (Ctrl+Enter).")

    def _open(self, item: QListWidgetItem) -> None:
        path = str(item.data(Qt.ItemDataRole.UserRole))
        self.image_opened.emit(path)
        ImageDialog(path, self).open()

    def _open_folder(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            open_folder(str(item.data(Qt.ItemDataRole.UserRole)))
