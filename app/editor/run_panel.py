"""The run bar: Run and Cancel, a progress bar, what is happening, and the run's cost."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from graph_runtime.events import Event, EventKind

DONE_KINDS = {EventKind.NODE_FINISHED, EventKind.NODE_CACHED, EventKind.NODE_FAILED, EventKind.NODE_SKIPPED}


class RunPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        self.run_button = QPushButton("▶ Run")
        self.run_button.setToolTip("Run the workflow (Ctrl+Enter)")
        self.cancel_button = QPushButton("■ Cancel")
        self.cancel_button.setToolTip("Stop the run; finished images are kept (Esc)")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.progress.setMaximumWidth(220)
        self.status = QLabel("Ready")
        self.cost = QLabel("")
        layout.addWidget(self.run_button)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.status, 1)
        layout.addWidget(self.cost)
        self._queued: set[str] = set()
        self._done: set[str] = set()
        self.total_cost: float | None = None

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def start(self) -> None:
        self._queued = set()
        self._done = set()
        self.total_cost = None
        self.progress.setRange(0, 0)  # busy until the first nodes are queued
        self.progress.setFormat("%v / %m nodes")
        self.status.setText("Starting…")
        self.cost.setText("")

    def on_event(self, event: Event) -> None:
        kind = event.kind
        if kind == EventKind.NODE_QUEUED and event.node_id:
            self._queued.add(event.node_id)
        elif kind in DONE_KINDS and event.node_id:
            self._queued.add(event.node_id)
            self._done.add(event.node_id)
        elif kind == EventKind.NODE_STARTED and event.node_id:
            self.status.setText(f"Running {event.node_id}…")
        elif kind == EventKind.COST:
            total = event.data.get("total", event.data.get("cost"))
            if isinstance(total, int | float):
                self.total_cost = float(total)
                self.cost.setText(f"Cost ${self.total_cost:.4f}")
        if self._queued:
            self.progress.setRange(0, len(self._queued))
            self.progress.setValue(len(self._done))

    def finish(self, status: str, total_cost: float | None, message: str = "") -> None:
        self.set_running(False)
        self.progress.setRange(0, max(1, len(self._queued)))
        self.progress.setValue(len(self._done) if status != "ok" else max(1, len(self._queued)))
        self.status.setText(message or {"ok": "Done", "failed": "Failed", "cancelled": "Cancelled"}.get(status, status))
        if total_cost is not None:
            self.total_cost = total_cost
            # A free run (the local engine) or one that failed before any cost says nothing about money.
            self.cost.setText(f"Cost ${total_cost:.4f}" if total_cost else "")
