"""Run events and the sinks that receive them: Qt signals in the editor, a progress display or JSON lines in the CLI.

Sinks are plain callables so that a run never needs to know who listens. They are called on the executor's
event loop thread; a GUI sink must hand events over to its own thread.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any


class EventKind(StrEnum):
    RUN_STARTED = "run_started"
    NODE_QUEUED = "node_queued"
    NODE_STARTED = "node_started"
    NODE_PROGRESS = "node_progress"
    NODE_CACHED = "node_cached"
    NODE_FINISHED = "node_finished"
    NODE_FAILED = "node_failed"
    NODE_SKIPPED = "node_skipped"  # an upstream task failed or the run was cancelled
    IMAGE_SAVED = "image_saved"
    COST = "cost"
    RUN_FINISHED = "run_finished"


@dataclass(frozen=True)
class Event:
    kind: EventKind
    node_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"event": str(self.kind), "node": self.node_id, "time": round(self.time, 6), **self.data}


EventSink = Callable[[Event], None]


def null_sink(event: Event) -> None:
    """Discards events."""


class JsonLinesSink:
    """One JSON object per line, flushed at once: `loomware run --events jsonl`."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        line = json.dumps(event.to_dict(), ensure_ascii=False, default=str)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class FanOutSink:
    """Sends each event to several sinks."""

    def __init__(self, *sinks: EventSink) -> None:
        self._sinks = sinks

    def __call__(self, event: Event) -> None:
        for sink in self._sinks:
            sink(event)


class CancelToken:
    """Set once to stop a run: pending work stops, finished results are kept and saved."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
