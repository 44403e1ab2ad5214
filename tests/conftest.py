"""Shared test helpers: the standard registry and small graph builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"


@pytest.fixture
def registry():
    from nodes import REGISTRY

    return REGISTRY
