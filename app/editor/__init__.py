"""The Loomware desktop editor (PySide6). Nothing outside app/editor imports Qt."""

from __future__ import annotations
