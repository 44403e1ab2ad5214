"""Autosave: after a few seconds of idle, unsaved work is written to the user's data folder; a clean close
removes it, so an autosave found at start means the editor stopped without closing (a crash), and the
next start offers to restore it.

Each window writes its own file, named by a session id, with a small metadata file beside it (the
original path and the writer's process id, so a second running editor does not offer to "restore" the
work of the first).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from graph_runtime.atomic import write_text_atomic

DATA_DIR_ENV = "LOOMWARE_DATA_DIR"
IDLE_MS = 3000


def data_dir() -> Path:
    if env := os.environ.get(DATA_DIR_ENV):
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("loomware"))


def autosave_dir() -> Path:
    return data_dir() / "autosave"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@dataclass
class Orphan:
    """An autosave left behind by an editor that did not close cleanly."""

    file: Path
    meta_file: Path
    original: Path | None
    saved_at: float
    name: str

    def text(self) -> str:
        return self.file.read_text(encoding="utf-8")

    def discard(self) -> None:
        for path in (self.file, self.meta_file):
            path.unlink(missing_ok=True)


def find_orphans(folder: Path | None = None) -> list[Orphan]:
    """Autosaves whose writer is gone, newest first."""
    folder = folder or autosave_dir()
    found: list[Orphan] = []
    for meta_file in folder.glob("*.meta.json"):
        file = meta_file.with_name(meta_file.name.removesuffix(".meta.json") + ".json")
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        if not file.is_file():
            meta_file.unlink(missing_ok=True)
            continue
        pid = meta.get("pid")
        if isinstance(pid, int) and _alive(pid):
            continue
        original = meta.get("path")
        found.append(
            Orphan(
                file=file,
                meta_file=meta_file,
                original=Path(original) if isinstance(original, str) else None,
                saved_at=float(meta.get("saved_at", file.stat().st_mtime)),
                name=str(meta.get("name", "Untitled")),
            )
        )
    found.sort(key=lambda o: -o.saved_at)
    return found


class Autosaver(QObject):
    """Writes the window's workflow after IDLE_MS without changes, while it has unsaved changes."""

    def __init__(self, parent: QObject, idle_ms: int = IDLE_MS) -> None:
        super().__init__(parent)
        self.session = uuid.uuid4().hex[:12]
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(idle_ms)
        self.timer.timeout.connect(self.save_now)
        # Returns (text, original path, name) of unsaved work, or None when there is nothing unsaved.
        self.text_source: Callable[[], tuple[str, Path | None, str] | None] | None = None
        self.last_saved: float | None = None

    @property
    def file(self) -> Path:
        return autosave_dir() / f"{self.session}.json"

    @property
    def meta_file(self) -> Path:
        return autosave_dir() / f"{self.session}.meta.json"

    def poke(self) -> None:
        """Something changed: (re)start the idle timer."""
        self.timer.start()

    def save_now(self) -> None:
        if self.text_source is None:
            return
        state = self.text_source()
        if state is None:  # nothing unsaved: no autosave needed
            self.discard()
            return
        text, original, name = state
        try:
            write_text_atomic(self.file, text)
            meta = {"pid": os.getpid(), "path": str(original) if original else None, "name": name}
            meta["saved_at"] = time.time()
            write_text_atomic(self.meta_file, json.dumps(meta, indent=2) + "\n")
            self.last_saved = time.time()
        except OSError:
            pass  # a full or read-only disk must not interrupt editing; the next idle tries again

    def discard(self) -> None:
        self.timer.stop()
        self.file.unlink(missing_ok=True)
        self.meta_file.unlink(missing_ok=True)
