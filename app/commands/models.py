"""`loomware models`: the local model catalogue (list, add, remove, scan, init-demo)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from graph_runtime.backends.local.catalog import KINDS, Catalog, CatalogError

MODELS_DIR_HELP = "The models folder (default: $LOOMWARE_MODELS_DIR, else the per-user data folder)."


def _catalog(ctx: click.Context) -> Catalog:
    return ctx.find_object(Catalog) or Catalog()


@click.group("models")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=MODELS_DIR_HELP)
@click.pass_context
def models_group(ctx: click.Context, models_dir: Path | None) -> None:
    """The local engine's models: AIR ids mapped to files in a ComfyUI-style folder."""
    ctx.obj = Catalog(models_dir)


@models_group.command("list")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Only models of this kind.")
@click.pass_context
def list_command(ctx: click.Context, kind: str | None) -> None:
    """Show every model in the catalogue."""
    catalog = _catalog(ctx)
    click.echo(f"models folder: {catalog.root}")
    try:
        entries = [e for e in catalog.entries().values() if kind is None or e.kind == kind]
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    if not entries:
        click.echo("no models yet: `loomware models add` or `loomware models init-demo`")
        return
    width = max(len(e.air) for e in entries)
    for e in sorted(entries, key=lambda e: (e.kind, e.air)):
        click.echo(f"{e.air:<{width}}  {e.kind:<10}  {e.architecture:<14}  {e.format:<11}  {e.path}")


@models_group.command("add")
@click.argument("air")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--architecture", default=None, help="sd1.5, sdxl, ... (guessed from the files when left out).")
@click.option("--link", is_flag=True, help="Symlink into the catalogue instead of copying.")
@click.option("--replace", is_flag=True, help="Replace an existing entry with this AIR id.")
@click.pass_context
def add_command(
    ctx: click.Context, air: str, kind: str, path: Path, architecture: str | None, link: bool, replace: bool
) -> None:
    """Add the model at PATH (a diffusers folder, or a .safetensors LoRA / embedding) as AIR of KIND."""
    try:
        entry = _catalog(ctx).add(air, kind, path, architecture=architecture, link=link, replace=replace)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"added {entry.air}: {entry.kind}, {entry.architecture}, {entry.format}, {entry.path}")


@models_group.command("remove")
@click.argument("air")
@click.option("--delete-files", is_flag=True, help="Also delete the model's files from the catalogue.")
@click.pass_context
def remove_command(ctx: click.Context, air: str, delete_files: bool) -> None:
    """Remove AIR from the catalogue."""
    try:
        entry = _catalog(ctx).remove(air, delete_files=delete_files)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed {entry.air}" + (f" and deleted {entry.path}" if delete_files else ""))


@models_group.command("scan")
@click.pass_context
def scan_command(ctx: click.Context) -> None:
    """Index models dropped by hand into the catalogue's subfolders (as local:<name>@1)."""
    catalog = _catalog(ctx)
    try:
        added = catalog.scan()
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    for entry in added:
        click.echo(f"added {entry.air}: {entry.kind}, {entry.architecture}, {entry.path}")
    click.echo(f"{len(added)} new model(s) in {catalog.root}")


@models_group.command("init-demo")
@click.option("--overwrite", is_flag=True, help="Rebuild the demo models even if they exist.")
@click.pass_context
def init_demo_command(ctx: click.Context, overwrite: bool) -> None:
    """Build tiny random-weight demo models (seconds, no network). Their images are noise."""
    from graph_runtime.backends.local.demo_models import NOISE_NOTICE, init_demo

    catalog = _catalog(ctx)
    start = time.perf_counter()
    try:
        entries = init_demo(catalog, overwrite=overwrite)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    for entry in entries:
        click.echo(f"{entry.air:<32} {entry.kind:<10} {entry.architecture:<6} {entry.path}")
    click.echo(f"built {len(entries)} demo models in {catalog.root} ({time.perf_counter() - start:.1f} s)")
    click.echo(NOISE_NOTICE)
