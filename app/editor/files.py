"""Where files come from: recent files, the bundled examples, and workflows embedded in Loomware PNGs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from app.editor.autosave import data_dir
from graph_runtime.document import Workflow, load, loads
from graph_runtime.problems import Problem, WorkflowLoadError

MAX_RECENT = 10
WORKFLOW_SUFFIXES = (".json", ".loomware")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")  # images Loomware wrote carry their workflow


def examples_dir() -> Path | None:
    """The repository's workflows/ folder next to the package, when it is there (not in every install)."""
    folder = Path(__file__).resolve().parents[2] / "workflows"
    return folder if folder.is_dir() else None


def example_files() -> list[Path]:
    folder = examples_dir()
    return sorted(folder.glob("*.json")) if folder else []


def _settings() -> QSettings:
    # An ini file in the data folder (not the registry or ~/.config), so tests can point it elsewhere.
    return QSettings(str(data_dir() / "editor.ini"), QSettings.Format.IniFormat)


def recent_files() -> list[Path]:
    value = _settings().value("recent", [])
    if isinstance(value, str):
        value = [value]
    return [Path(p) for p in (value or []) if isinstance(p, str)]


def add_recent(path: Path) -> None:
    items = [str(path.resolve())] + [str(p) for p in recent_files() if p.resolve() != path.resolve()]
    settings = _settings()
    settings.setValue("recent", items[:MAX_RECENT])
    settings.sync()


def clear_recent() -> None:
    settings = _settings()
    settings.remove("recent")
    settings.sync()


def load_any(path: Path) -> Workflow:
    """A workflow file, or the workflow embedded in a PNG that Loomware wrote. Raises WorkflowLoadError."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        from graph_runtime.png_metadata import read_embedded_workflow

        try:
            text = read_embedded_workflow(path)
        except (OSError, ValueError) as exc:
            raise WorkflowLoadError([Problem(f"cannot read {path.name}: {exc}")], source=str(path)) from None
        if text is None:
            raise WorkflowLoadError(
                [Problem(f"{path.name} holds no Loomware workflow (only images saved by Loomware carry one)")],
                source=str(path),
            )
        try:
            return loads(text)
        except WorkflowLoadError as exc:
            exc.source = str(path)
            raise
    return load(path)
