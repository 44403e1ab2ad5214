"""What a run leaves on disk: saved images (never overwriting a file), previews, metadata and the run report.

    <out dir>/<folder>/<pattern>.<ext>           Save Image; "-1", "-2", ... when the name is taken
    <out dir>/.previews/<run id>/<node>-<i>.<ext> Preview Image
    <out dir>/reports/<run id>.json               the run report (tasks, files, errors, cost, backend)

PNGs carry the workflow and the task that made them in text chunks; JPG and WEBP get `<file>.json` beside them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from graph_runtime.atomic import write_text_atomic
from graph_runtime.naming import render_filename
from graph_runtime.plan import PlannedOutput
from graph_runtime.png_metadata import (
    SIDECAR_SUFFIX,
    TASK_KEY,
    WORKFLOW_KEY,
    embed_png_text,
    is_png,
    metadata_entries,
    sidecar_path,
)

JsonDict = dict[str, Any]
PREVIEW_DIR = ".previews"
REPORT_DIR = "reports"
#: outputFormat (api_facts.OUTPUT_FORMATS) -> file extension and MIME type.
FORMAT_EXT = {"JPG": "jpg", "PNG": "png", "WEBP": "webp"}
EXT_MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+/-]+)?(?:;[\w=.-]+)*;base64,(?P<b64>.*)$", re.DOTALL)
MAX_SUFFIX = 100_000


# ---------------------------------------------------------------------------------------------- image bytes


def sniff_ext(data: bytes) -> str | None:
    """The file extension the bytes call for (png, jpg, webp), from their magic numbers."""
    if is_png(data):
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def decode_inline(value: str) -> bytes:
    """The bytes of a data URI or raw base64 string; ValueError when it is neither."""
    match = _DATA_URI.match(value)
    text = match["b64"] if match else value
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64 image data: {exc}") from None


def data_uri(data: bytes) -> str:
    mime = EXT_MIME.get(sniff_ext(data) or "png", "image/png")
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def redact_task(task: Mapping[str, Any]) -> JsonDict:
    """A task as sent, with inline image data shortened (a data URI is the image, not a setting)."""

    def short(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("data:") and len(value) > 200:
            return f"{value[:40]}... ({len(value)} characters)"
        if isinstance(value, dict):
            return {k: short(v) for k, v in value.items()}
        if isinstance(value, list):
            return [short(v) for v in value]
        return value

    return short(dict(task))


# ---------------------------------------------------------------------------------------------- writing


@dataclass
class StagedImage:
    """An image (and its sidecar) written and flushed to disk under temporary names in its folder, not yet named.

    Staging holds the slow part (the fsync) and may run for many images at once; `OutputWriter.commit` then gives
    it the first free name with one hard link, which never replaces an existing file.
    """

    folder: Path
    stem: str
    ext: str
    tmp: Path
    sidecar_tmp: Path | None = None


class OutputWriter:
    """Writes a run's images. One per run; thread-safe, so many images can be staged at once from a thread pool."""

    def __init__(
        self, out_dir: Path, run_id: str, *, workflow_name: str, workflow_text: str | None, started: datetime
    ) -> None:
        self.out_dir = Path(out_dir)
        self.run_id = run_id
        self.workflow_name = workflow_name
        self.started = started
        self._lock = threading.Lock()
        self._workflow_text = workflow_text
        self._workflow_source: Callable[[], str] | None = None
        self._sidecar_fragment: str | None = None  # the workflow as it sits inside every sidecar

    @property
    def workflow_text(self) -> str | None:
        if self._workflow_source is not None:
            self.prepare()
        return self._workflow_text

    @workflow_text.setter
    def workflow_text(self, text: str | None) -> None:
        with self._lock:
            self._workflow_text, self._workflow_source, self._sidecar_fragment = text, None, None

    def defer_workflow_text(self, source: Callable[[], str]) -> None:
        """Make the embedded workflow text only when needed (or when `prepare` runs while the run is idle)."""
        with self._lock:
            self._workflow_text, self._workflow_source, self._sidecar_fragment = None, source, None

    def prepare(self) -> None:
        """Build what every file of the run shares, once: the workflow text and its sidecar form.

        Both take milliseconds of pure Python for a big graph; the executor calls this in a worker thread while
        it waits on the network, so the images that come later do not pay for it (nor re-do it per image).
        """
        with self._lock:
            if self._workflow_source is not None:
                self._workflow_text = self._workflow_source()
                self._workflow_source = None
            if self._sidecar_fragment is None and self._workflow_text is not None:
                self._sidecar_fragment = _nested(json.loads(self._workflow_text))

    @property
    def preview_dir(self) -> Path:
        return self.out_dir / PREVIEW_DIR / self.run_id

    def write(self, output: PlannedOutput, index: int, data: bytes, *, seed: int | None, task: JsonDict | None) -> Path:
        """Stage and commit one image: its path (never an existing file's)."""
        return self.commit(self.stage(output, index, data, seed=seed, task=task))

    def stage(
        self, output: PlannedOutput, index: int, data: bytes, *, seed: int | None, task: JsonDict | None
    ) -> StagedImage:
        ext = sniff_ext(data) or FORMAT_EXT.get(str((task or {}).get("outputFormat", "")).upper(), "png")
        if output.kind == "preview":
            folder = self.preview_dir
            stem = render_filename("{node}-{index}", {"node": output.node_id, "index": index})
        else:
            folder = self.out_dir / str(output.options.get("folder") or "")
            pattern = str(output.options.get("filename") or "{workflow}-{seed}-{index}")
            values = {
                "workflow": self.workflow_name,
                "title": output.options.get("title", ""),
                "node": output.node_id,
                "seed": "" if seed is None else seed,
                "index": index,
                "date": self.started.strftime("%Y-%m-%d"),
                "time": self.started.strftime("%H%M%S"),
            }
            stem = render_filename(pattern, values)
        self.prepare()
        sent = redact_task(task) if task else None
        workflow_text = self._workflow_text
        body = data
        sidecar: bytes | None = None
        if ext == "png":
            entries = metadata_entries(workflow_text, sent)
            if entries:
                body = embed_png_text(data, entries)
        elif workflow_text is not None or sent is not None:
            sidecar = self._sidecar_text(sent).encode("utf-8")
        staged = StagedImage(folder, stem, ext, _write_durable_temp(folder, f"{stem}.{ext}", body))
        try:
            if sidecar is not None:
                staged.sidecar_tmp = _write_durable_temp(folder, f"{stem}.{ext}{SIDECAR_SUFFIX}", sidecar)
        except BaseException:
            self.discard(staged)
            raise
        return staged

    def commit(self, staged: StagedImage) -> Path:
        """Link a staged image to `stem.ext`, else `stem-1.ext`, `stem-2.ext`, ...; its sidecar follows it.

        The temporary names are removed whatever happens.
        """
        try:
            path = _link_unique(staged.folder, staged.stem, staged.ext, staged.tmp)
            if staged.sidecar_tmp is not None:
                os.replace(staged.sidecar_tmp, sidecar_path(path))
            return path
        finally:
            self.discard(staged)

    def discard(self, staged: StagedImage) -> None:
        for tmp in (staged.tmp, staged.sidecar_tmp):
            if tmp is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

    def _sidecar_text(self, sent: JsonDict | None) -> str:
        """png_metadata.sidecar_text, with the workflow part made once per run instead of once per image."""
        parts = []
        if self._sidecar_fragment is not None:
            parts.append(f"  {json.dumps(WORKFLOW_KEY)}: {self._sidecar_fragment}")
        if sent is not None:
            parts.append(f"  {json.dumps(TASK_KEY)}: {_nested(sent)}")
        return "{\n" + ",\n".join(parts) + "\n}\n" if parts else "{}\n"

    def write_report(self, report: RunReport) -> Path:
        path = self.out_dir / REPORT_DIR / f"{self.run_id}.json"
        report.report_path = path
        write_text_atomic(path, json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n")
        return path


def _nested(value: Any) -> str:
    """`value` as json.dumps(indent=2) writes it one level deep in an object (JSON text holds no raw newline)."""
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")


def _write_durable_temp(folder: Path, name: str, data: bytes) -> Path:
    """`data` in a new hidden file beside `name`, flushed to disk before anything links to it."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    except FileNotFoundError:  # the folder's first file (cheaper than a mkdir call before every file)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _link_unique(folder: Path, stem: str, ext: str, tmp: Path) -> Path:
    """Hard-link `tmp` to the first free name: linking fails when the name exists, even under a concurrent writer,
    so an existing file is never replaced."""
    for n in range(MAX_SUFFIX):
        path = folder / (f"{stem}.{ext}" if n == 0 else f"{stem}-{n}.{ext}")
        try:
            os.link(tmp, path)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free file name for {stem}.{ext} in {folder}")


# ---------------------------------------------------------------------------------------------- report


@dataclass
class TaskRecord:
    """One task as it ran (a fan-out copy is its own record, `copy_of` naming the planned task)."""

    task_uuid: str
    node: str
    task_type: str
    status: str  # "ok" | "cached" | "failed" | "skipped" | "cancelled"
    copy_of: str | None = None
    started: float | None = None
    finished: float | None = None
    seed: int | None = None
    seeds: list[int] = field(default_factory=list)
    items: int = 0
    cost: float | None = None
    delivery: str = "sync"
    error: JsonDict | None = None

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return round(self.finished - self.started, 4)

    def to_dict(self) -> JsonDict:
        out = {
            "taskUUID": self.task_uuid,
            "node": self.node,
            "taskType": self.task_type,
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "duration": self.duration,
            "delivery": self.delivery,
            "items": self.items,
            "seed": self.seed,
            "seeds": self.seeds,
            "cost": self.cost,
        }
        if self.copy_of:
            out["copyOf"] = self.copy_of
        if self.error:
            out["error"] = self.error
        return out


EXIT_CODES = {"ok": 0, "failed": 1, "cancelled": 130}


@dataclass
class RunReport:
    run_id: str
    workflow: str
    backend: str
    status: str = "ok"  # "ok" | "failed" | "cancelled"
    started: datetime | None = None
    finished: datetime | None = None
    tasks: list[TaskRecord] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    previews: dict[str, list[Path]] = field(default_factory=dict)
    total_cost: float = 0.0
    seeds: dict[str, list[int]] = field(default_factory=dict)
    errors: list[JsonDict] = field(default_factory=list)
    requests: int | None = None
    retries: int | None = None
    cache: JsonDict = field(default_factory=dict)
    report_path: Path | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return round((self.finished - self.started).total_seconds(), 4)

    def to_dict(self) -> JsonDict:
        return {
            "runId": self.run_id,
            "workflow": self.workflow,
            "backend": self.backend,
            "status": self.status,
            "exitCode": self.exit_code,
            "started": self.started.isoformat() if self.started else None,
            "finished": self.finished.isoformat() if self.finished else None,
            "duration": self.duration,
            "totalCost": round(self.total_cost, 6),
            "files": [str(p) for p in self.files],
            "previews": {k: [str(p) for p in v] for k, v in self.previews.items()},
            "seeds": self.seeds,
            "tasks": [t.to_dict() for t in self.tasks],
            "errors": self.errors,
            "requests": self.requests,
            "retries": self.retries,
            "cache": self.cache,
        }
