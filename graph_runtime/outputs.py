"""What a run leaves on disk: saved images (never overwriting a file), previews, metadata and the run report.

    <out dir>/<folder>/<pattern>.<ext>           Save Image; "-1", "-2", ... when the name is taken
    <out dir>/.previews/<run id>/<node>-<i>.<ext> Preview Image
    <out dir>/reports/<run id>.json               the run report (tasks, files, errors, cost, backend)

PNGs carry the workflow and the task that made them in text chunks; JPG and WEBP get `<file>.json` beside them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from graph_runtime.atomic import create_exclusive, write_text_atomic
from graph_runtime.naming import render_filename
from graph_runtime.plan import PlannedOutput
from graph_runtime.png_metadata import embed_png_text, is_png, metadata_entries, sidecar_path, sidecar_text

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


class OutputWriter:
    """Writes a run's images. One per run; safe to call from one event loop (writes are quick and atomic)."""

    def __init__(
        self, out_dir: Path, run_id: str, *, workflow_name: str, workflow_text: str | None, started: datetime
    ) -> None:
        self.out_dir = Path(out_dir)
        self.run_id = run_id
        self.workflow_name = workflow_name
        self.workflow_text = workflow_text
        self.started = started

    @property
    def preview_dir(self) -> Path:
        return self.out_dir / PREVIEW_DIR / self.run_id

    def write(self, output: PlannedOutput, index: int, data: bytes, *, seed: int | None, task: JsonDict | None) -> Path:
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
        sent = redact_task(task) if task else None
        entries = metadata_entries(self.workflow_text, sent)
        body = embed_png_text(data, entries) if ext == "png" and entries else data
        path = _create_unique(folder, stem, ext, body)
        if ext != "png" and entries:
            write_text_atomic(sidecar_path(path), sidecar_text(self.workflow_text, sent))
        return path

    def write_report(self, report: RunReport) -> Path:
        path = self.out_dir / REPORT_DIR / f"{self.run_id}.json"
        report.report_path = path
        write_text_atomic(path, json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n")
        return path


def _create_unique(folder: Path, stem: str, ext: str, data: bytes) -> Path:
    """`stem.ext`, else `stem-1.ext`, `stem-2.ext`, ...: an existing file is never replaced."""
    for n in range(MAX_SUFFIX):
        path = folder / (f"{stem}.{ext}" if n == 0 else f"{stem}-{n}.{ext}")
        if not path.exists() and create_exclusive(path, data):
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
