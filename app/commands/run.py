"""`loomware run`: run a workflow (or the workflow embedded in an image) and save its outputs.

Exit codes: 0 all done, 1 some tasks failed, 2 invalid workflow or usage (no key, missing model, ...),
130 cancelled (Ctrl-C; finished results are still saved).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import click

from app.cli import EXIT_CANCELLED, fail, load_or_exit, set_option
from graph_runtime.events import Event, EventKind, EventSink, FanOutSink, JsonLinesSink

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def _load(file: str, overrides: tuple[str, ...]) -> tuple[Any, Path]:
    """The workflow and the folder its relative paths start from (an image's own folder for an image)."""
    path = Path(file)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return load_or_exit(file, overrides), path.parent
    from graph_runtime.overrides import OverrideError, apply_overrides
    from graph_runtime.problems import WorkflowLoadError
    from graph_runtime.run import load_embedded
    from nodes import REGISTRY

    if not path.is_file():
        fail(f"cannot read {file}: no such file")
    try:
        workflow = load_embedded(path, REGISTRY)
        workflow = apply_overrides(workflow, list(overrides), REGISTRY) if overrides else workflow
    except (WorkflowLoadError, OverrideError) as exc:
        fail(str(exc))
    return workflow, path.parent


def _error_line(err: dict[str, Any], backend: str) -> str:
    """A person-readable line for one report error, with what to do about the common ones."""
    from graph_runtime.backends.runware import (
        AuthenticationError,
        InsufficientBalanceError,
        ModelNotFoundError,
        error_class,
    )
    from graph_runtime.config import api_key_help

    cls = error_class(err.get("httpStatus"), str(err.get("code", "")), err.get("parameter"))
    node = err.get("node", "?")
    message = err.get("message", "")
    if cls is AuthenticationError:
        return f"the {backend} backend rejected the API key ({message}); check it: {api_key_help()}"
    if cls is InsufficientBalanceError:
        return f"insufficient balance on the Runware account ({message}); top up at https://my.runware.ai"
    if cls is ModelNotFoundError:
        return f"node {node!r}: model not found ({err.get('parameter') or 'model'}): {message}"
    where = f" (field {err['parameter']})" if err.get("parameter") else ""
    return f"node {node!r}: {err.get('code')}: {message}{where}"


class _LineSink:
    """Plain lines on stderr when it is not a terminal: failures and skips, nothing animated."""

    def __call__(self, event: Event) -> None:
        if event.kind is EventKind.NODE_FAILED:
            click.echo(f"node {event.node_id!r} failed: {event.data.get('error')}", err=True)
        elif event.kind is EventKind.NODE_SKIPPED and event.data.get("reason") != "cancelled":
            click.echo(f"node {event.node_id!r} skipped ({event.data.get('reason')})", err=True)


class _ProgressSink:
    """A live table on stderr: one row per node with its state and progress."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.fields[node]:<20}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.rows: dict[str, Any] = {}
        self.total_cost = 0.0

    def __enter__(self) -> _ProgressSink:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _row(self, node: str) -> Any:
        if node not in self.rows:
            self.rows[node] = self.progress.add_task("", total=1.0, node=node, state="queued")
        return self.rows[node]

    def __call__(self, event: Event) -> None:
        node, kind, data = event.node_id, event.kind, event.data
        if node is None:
            if kind is EventKind.RUN_STARTED:
                self.progress.console.print(f"running on {data.get('backend')} ({data.get('tasks')} task(s))")
            return
        row = self._row(node)
        update = self.progress.update
        if kind is EventKind.NODE_STARTED:
            update(row, state="running")
        elif kind is EventKind.NODE_PROGRESS:
            update(row, completed=float(data.get("progress", 0)))
        elif kind is EventKind.NODE_CACHED:
            update(row, completed=1.0, state="[cyan]cached")
        elif kind is EventKind.NODE_FINISHED:
            images = data.get("images")
            update(row, completed=1.0, state=f"[green]done{f' ({len(images)} image(s))' if images else ''}")
        elif kind is EventKind.NODE_FAILED:
            update(row, state=f"[red]failed: {data.get('error')}")
        elif kind is EventKind.NODE_SKIPPED:
            update(row, state=f"[yellow]skipped ({data.get('reason')})")
        elif kind is EventKind.COST:
            self.total_cost = float(data.get("total", self.total_cost))


@click.command("run")
@click.argument("file", type=click.Path(dir_okay=False))
@set_option
@click.option(
    "--backend",
    metavar="cloud|local|URL",
    help="Where tasks run: the Runware cloud, the local diffusers engine, or a Runware-compatible server URL. "
    "Default: the settings' default_backend (local).",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output directory (default: settings).")
@click.option("--no-cache", is_flag=True, help="Run every task even when an identical one ran before.")
@click.option("--events", type=click.Choice(["jsonl"]), help="Print one JSON event per line on stdout.")
@click.option("--batch-size", type=click.IntRange(1, 256), default=16, show_default=True, help="Tasks per request.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True, help="Requests in flight.")
@click.option(
    "--async-threshold",
    type=float,
    default=400.0,
    show_default=True,
    help="Send imageInference tasks with steps x images x megapixels at or above this with async delivery "
    "(polled); 0 sends every inference async.",
)
def run_command(
    file: str,
    overrides: tuple[str, ...],
    backend: str | None,
    out_dir: str | None,
    no_cache: bool,
    events: str | None,
    batch_size: int,
    concurrency: int,
    async_threshold: float,
) -> None:
    """Run FILE (a workflow, or a PNG/JPG/WEBP that Loomware wrote: its embedded workflow runs again, with
    relative file paths resolved against the image's folder)."""
    from graph_runtime.backends.factory import BackendSpecError, is_url
    from graph_runtime.compile import CompileError
    from graph_runtime.config import ConfigError, api_key_help, get_api_key, load_settings
    from graph_runtime.events import CancelToken
    from graph_runtime.run import MissingModelsError, RunOptions, run_workflow

    try:
        settings = load_settings()
    except ConfigError as exc:
        fail(str(exc))
    workflow, base_dir = _load(file, overrides)
    backend = backend or settings.default_backend
    if backend not in ("cloud", "local") and not is_url(backend):
        fail(f"--backend {backend!r}: use cloud, local or an http(s):// URL")
    api_key = get_api_key() if backend != "local" else None
    if backend == "cloud" and not api_key:
        fail(f"no Runware API key is configured: {api_key_help()}")
    options = RunOptions(
        backend=backend,
        api_key=api_key,
        out_dir=Path(out_dir or settings.output_dir),
        use_cache=not no_cache,
        batch_size=batch_size,
        concurrency=concurrency,
        async_threshold=async_threshold,
        default_output_format=settings.default_save_format,
    )

    sinks: list[EventSink] = []
    if events == "jsonl":
        sinks.append(JsonLinesSink(sys.stdout))
    display: _ProgressSink | None = None
    if sys.stderr.isatty():
        display = _ProgressSink()
        sinks.append(display)
    else:
        sinks.append(_LineSink())
    cancel = CancelToken()

    async def main() -> Any:
        loop = asyncio.get_running_loop()

        def on_sigint() -> None:
            if cancel.cancelled:  # a second Ctrl-C: stop at once
                sys.exit(EXIT_CANCELLED)
            click.echo("cancelling: finished results are kept (Ctrl-C again to quit at once)", err=True)
            cancel.cancel()

        # Not possible off the main thread (tests) or on some platforms: Ctrl-C then simply interrupts.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        return await run_workflow(workflow, base_dir=base_dir, options=options, sink=FanOutSink(*sinks),
                                  cancel=cancel)  # fmt: skip

    try:
        if display is not None:
            with display:
                report = asyncio.run(main())
        else:
            report = asyncio.run(main())
    except (CompileError, MissingModelsError, BackendSpecError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("cancelled", EXIT_CANCELLED)

    out = sys.stderr if events == "jsonl" else sys.stdout
    for path in report.files:
        click.echo(str(path), file=out)
    for line in dict.fromkeys(_error_line(err, report.backend) for err in report.errors):
        click.echo(f"error: {line}", err=True)
    cost = f", cost ${report.total_cost:.4f}" if report.total_cost else ""
    click.echo(
        f"{report.status}: {len(report.files)} image(s) saved{cost}; report {report.report_path}",
        err=True,
    )
    sys.exit(report.exit_code if report.status != "cancelled" else EXIT_CANCELLED)
