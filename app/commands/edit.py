"""`loomware edit [FILE]`: open the desktop editor (PySide6 is imported only when this runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command(name="edit")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def edit_command(file: str | None) -> None:
    """Open the node editor, with FILE (a workflow, or a PNG Loomware made) if given."""
    try:
        from app.editor.app import run_editor
    except ImportError as exc:  # PySide6 missing or its system libraries absent
        click.echo(f"error: the editor needs PySide6 and a display ({exc})", err=True)
        sys.exit(1)
    sys.exit(run_editor(Path(file) if file else None))
