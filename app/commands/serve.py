"""`loomware serve`: the local engine as a Runware-compatible HTTP server."""

from __future__ import annotations

from pathlib import Path

import click

from app.commands.models import MODELS_DIR_HELP

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8420, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--api-key",
    envvar="LOOMWARE_SERVER_KEY",
    default=None,
    help="Require this bearer key from clients (also $LOOMWARE_SERVER_KEY). Never printed.",
)
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=MODELS_DIR_HELP)
@click.option("--device", default=None, help="cuda, cuda:<n>, mps or cpu (default: the best available).")
@click.option("--dtype", type=click.Choice(["float32", "float16", "bfloat16"]), default=None)
@click.option("--max-body-mb", default=64, show_default=True, type=click.IntRange(1, 4096))
def serve_command(
    host: str,
    port: int,
    api_key: str | None,
    models_dir: Path | None,
    device: str | None,
    dtype: str | None,
    max_body_mb: int,
) -> None:
    """Serve POST /v1 (the Runware image API) with the local diffusers engine."""
    import uvicorn

    from graph_runtime.backends.local.backend import LocalBackend
    from graph_runtime.backends.local.catalog import Catalog
    from graph_runtime.backends.local.server import create_app

    catalog = Catalog(models_dir)
    backend = LocalBackend(catalog, device=device, dtype=dtype, allow_remote_images=True)
    app = create_app(backend, api_key=api_key or None, max_body_bytes=max_body_mb * 1024 * 1024)
    if host not in LOOPBACK and not api_key:
        click.echo(f"warning: listening on {host} without --api-key: anyone who can reach it may use it", err=True)
    click.echo(f"models folder: {catalog.root} ({len(catalog.entries())} models)")
    click.echo(f"serving the Runware API at http://{host}:{port}/v1" + (" (bearer key required)" if api_key else ""))
    uvicorn.run(app, host=host, port=port, log_level="info")
