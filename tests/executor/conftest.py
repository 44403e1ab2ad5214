"""Fixtures: a Runware-compatible server on loopback (one per session, state reset per test) and isolated
cache/config folders so no test touches the user's files or keyring."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helper modules beside this file

from fake_runware import FakeRunware

from graph_runtime.backends.runware import RetryPolicy
from graph_runtime.document import Workflow
from graph_runtime.events import CancelToken, Event
from graph_runtime.run import RunOptions, RunReport, run_workflow

#: Quick retries so fault tests take milliseconds, not seconds (Retry-After up to 2 s is still honoured).
FAST_RETRY = RetryPolicy(attempts=4, initial=0.01, max_wait=2.0, jitter=0.01, budget=30.0, read_timeout=5.0)


@pytest.fixture
def fake(fake_api_server: FakeRunware) -> FakeRunware:
    fake_api_server.reset()
    return fake_api_server


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOMWARE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LOOMWARE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)


def options(fake: FakeRunware, tmp_path: Path, **kw: Any) -> RunOptions:
    base: dict[str, Any] = {
        "backend": fake.url,
        "api_key": fake.api_key,
        "out_dir": tmp_path / "out",
        "retry": FAST_RETRY,
        "poll_interval": 0.01,
    }
    return RunOptions(**{**base, **kw})


class Run:
    """Runs workflows against the fake server and keeps the events."""

    def __init__(self, fake: FakeRunware, tmp_path: Path) -> None:
        self.fake = fake
        self.tmp_path = tmp_path
        self.events: list[Event] = []

    async def __call__(
        self,
        workflow: Workflow,
        *,
        base_dir: Path | None = None,
        cancel: CancelToken | None = None,
        on_event: Any = None,
        **kw: Any,
    ) -> RunReport:
        self.events = []

        def sink(event: Event) -> None:
            self.events.append(event)
            if on_event is not None:
                on_event(event)

        return await run_workflow(
            workflow,
            base_dir=base_dir or self.tmp_path,
            options=options(self.fake, self.tmp_path, **kw),
            sink=sink,
            cancel=cancel,
        )

    def kinds(self, node: str | None = None) -> list[str]:
        return [str(e.kind) for e in self.events if node is None or e.node_id == node]

    def of(self, kind: str, node: str | None = None) -> list[Event]:
        return [e for e in self.events if str(e.kind) == kind and (node is None or e.node_id == node)]


@pytest.fixture
def run(fake: FakeRunware, tmp_path: Path) -> Run:
    return Run(fake, tmp_path)
