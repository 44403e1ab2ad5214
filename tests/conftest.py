"""Shared test helpers: the standard registry and small graph builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"


@pytest.fixture(scope="session")
def fake_api_server():
    """One loopback Runware-compatible test server (tests/executor/fake_runware.py) for the whole session;
    suites reset its state for each test."""
    from tests.executor.fake_runware import FakeRunware, serve

    fake = FakeRunware()
    thread = serve(fake)
    yield fake
    thread.stop()


@pytest.fixture
def registry():
    from nodes import REGISTRY

    return REGISTRY
