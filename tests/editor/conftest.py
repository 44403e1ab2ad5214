"""Editor tests drive real widgets offscreen, as a person would: keys into the palette, mouse drags on the
canvas viewport, edits in the inspector. Every test gets its own data, config and cache folders and no
keyring. Runs go to a real Runware-compatible server on loopback (tests/executor/fake_runware.py)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.executor.fake_runware import FakeRunware

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
SCREENSHOTS = ROOT / "tests" / "_output" / "screenshots"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOOMWARE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOOMWARE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("LOOMWARE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")  # never the user's keyring
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.setenv("LOOMWARE_MODELS_DIR", str(tmp_path / "models"))  # an empty catalogue unless a test sets one
    return tmp_path


@pytest.fixture
def runware(fake_api_server: FakeRunware) -> FakeRunware:
    fake_api_server.reset()
    return fake_api_server


@pytest.fixture(scope="session", autouse=True)
def dark_app(qapp):  # type: ignore[no-untyped-def]
    from app.editor.theme import apply_dark_palette

    qapp.setStyle("Fusion")
    apply_dark_palette(qapp)
    return qapp


@pytest.fixture
def make_window(qtbot):  # type: ignore[no-untyped-def]
    from app.editor.main_window import MainWindow

    made = []

    def make(path: Path | None = None) -> MainWindow:
        window = MainWindow(path)
        window.ask_save_changes = lambda: "discard"  # type: ignore[method-assign]
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    yield make
    for window in made:
        window.runner.cancel()
        window.runner.wait(10)


@pytest.fixture
def window(make_window):  # type: ignore[no-untyped-def]
    return make_window()


def screenshot(widget, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    widget.grab().save(str(path))
    return path


@pytest.fixture
def shots() -> Iterator[type]:
    class Shots:
        save = staticmethod(screenshot)

    yield Shots
