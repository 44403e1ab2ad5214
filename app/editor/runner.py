"""Runs a workflow off the UI thread: a worker thread with its own asyncio loop; events cross back to the UI
thread as Qt signals over queued connections, so the window never freezes and never touches Qt from the
worker."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from graph_runtime.document import Workflow
from graph_runtime.events import CancelToken, Event


class _Bridge(QObject):
    """Lives in the UI thread; the worker only emits its signals."""

    event = Signal(object)
    finished = Signal(object)  # the RunReport
    failed = Signal(str)


class RunController(QObject):
    event = Signal(object)  # graph_runtime.events.Event, on the UI thread
    finished = Signal(object)  # RunReport
    failed = Signal(str)  # the run could not start or crashed: a sentence for a person
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = _Bridge(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._bridge.event.connect(self.event.emit, queued)
        self._bridge.finished.connect(self._on_finished, queued)
        self._bridge.failed.connect(self._on_failed, queued)
        self._thread: threading.Thread | None = None
        self._cancel: CancelToken | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, workflow: Workflow, base_dir: Path, options: Any) -> bool:
        if self.running:
            return False
        snapshot = workflow.model_copy(deep=True)  # edits during the run never race the executor
        self._cancel = CancelToken()
        cancel = self._cancel
        bridge = self._bridge

        def sink(event: Event) -> None:
            bridge.event.emit(event)

        def work() -> None:
            try:
                from graph_runtime.run import run_workflow

                report = asyncio.run(
                    run_workflow(snapshot, base_dir=base_dir, options=options, sink=sink, cancel=cancel)
                )
            except Exception as exc:
                bridge.failed.emit(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            else:
                bridge.finished.emit(report)

        self._thread = threading.Thread(target=work, name="loomware-run", daemon=True)
        self._thread.start()
        self.running_changed.emit(True)
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until the worker ends (closing the window); True when it did."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _on_finished(self, report: Any) -> None:
        self._thread = None
        self.running_changed.emit(False)
        self.finished.emit(report)

    def _on_failed(self, message: str) -> None:
        self._thread = None
        self.running_changed.emit(False)
        self.failed.emit(message)
