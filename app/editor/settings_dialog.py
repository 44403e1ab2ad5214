"""Settings: which engine runs workflows, the API key (system keyring, always masked), the output folder
and the default save format. Values come from and go to graph_runtime.config; the key never enters a
workflow or the settings object."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from graph_runtime import config
from graph_runtime.api_facts import OUTPUT_FORMATS


def mask_key(key: str | None) -> str:
    """A key as it may be shown: never in full."""
    if not key:
        return "no key saved"
    return "•" * 8 + key[-4:] if len(key) > 8 else "•" * 8


class SettingsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.error: str | None = None
        try:
            self.settings = config.load_settings()
        except config.ConfigError as exc:
            self.error = str(exc)
            self.settings = config.Settings()
        self._key_cleared = False
        layout = QVBoxLayout(self)
        if self.error:
            warn = QLabel(f"The saved settings could not be read: {self.error}\nSaving writes a fresh file.")
            warn.setWordWrap(True)
            layout.addWidget(warn)
        form = QFormLayout()
        layout.addLayout(form)

        backend_box = QVBoxLayout()
        self.cloud = QRadioButton("Runware cloud (needs an API key)")
        self.local = QRadioButton("Local engine on this computer")
        self.custom = QRadioButton("A Runware-compatible server at a URL:")
        self.url = QLineEdit()
        self.url.setPlaceholderText("http://127.0.0.1:8420  (loomware serve's default)")
        self.group = QButtonGroup(self)
        for button in (self.cloud, self.local, self.custom):
            self.group.addButton(button)
            backend_box.addWidget(button)
        backend_box.addWidget(self.url)
        backend = self.settings.default_backend
        if backend == "cloud":
            self.cloud.setChecked(True)
        elif backend == "local":
            self.local.setChecked(True)
        else:
            self.custom.setChecked(True)
            self.url.setText(backend)
        self.url.textEdited.connect(lambda _t: self.custom.setChecked(True))
        form.addRow("Engine", backend_box)

        key_row = QHBoxLayout()
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setObjectName("apiKey")
        saved = self._saved_key()
        self.key.setPlaceholderText(f"saved: {mask_key(saved)}" if saved else "paste your Runware API key")
        self.forget = QPushButton("Forget key")
        self.forget.setEnabled(bool(saved))
        self.forget.clicked.connect(self._forget)
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.forget)
        form.addRow("API key", key_row)
        note = QLabel("Stored in the system keyring, never in workflows, images or reports.")
        note.setStyleSheet("color: #8a8f98;")
        form.addRow("", note)

        out_row = QHBoxLayout()
        self.output = QLineEdit(self.settings.output_dir)
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)
        form.addRow("Output folder", out_row)

        self.format = QComboBox()
        self.format.addItem("(API default)", None)
        for fmt in OUTPUT_FORMATS:
            self.format.addItem(fmt, fmt)
        index = self.format.findData(self.settings.default_save_format)
        self.format.setCurrentIndex(max(index, 0))
        form.addRow("Default save format", self.format)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @staticmethod
    def _saved_key() -> str | None:
        try:
            return config.get_api_key()
        except Exception:
            return None

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.output.text())
        if folder:
            self.output.setText(folder)

    def _forget(self) -> None:
        self._key_cleared = True
        self.key.clear()
        self.key.setPlaceholderText("the key will be forgotten when you save")
        self.forget.setEnabled(False)

    def chosen_backend(self) -> str:
        if self.cloud.isChecked():
            return "cloud"
        if self.local.isChecked():
            return "local"
        return self.url.text().strip()

    def accept(self) -> None:
        settings = config.Settings(
            default_backend=self.chosen_backend(),
            output_dir=self.output.text().strip() or "output",
            default_save_format=self.format.currentData(),
        )
        if problems := settings.problems():
            QMessageBox.warning(self, "Settings", "\n".join(problems))
            return
        try:
            config.save_settings(settings)
            key = self.key.text().strip()
            if key:
                config.set_api_key(key)
            elif self._key_cleared:
                config.set_api_key(None)
        except config.ConfigError as exc:
            QMessageBox.warning(self, "Settings", str(exc))
            return
        self.settings = settings
        super().accept()
