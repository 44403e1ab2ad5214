"""The one entry point that runs a workflow: compile, pick a backend, execute, write outputs and the report.

The CLI (`loomware run`) and the editor both call `run_workflow`. Problems that stop a run before anything is
sent raise: `CompileError` (the workflow is not runnable), `BackendSpecError` / `MissingApiKeyError` (no such
backend, no key), `MissingModelsError` (the local catalogue lacks a model). Everything after that, task errors
included, is in the returned `RunReport` (and its JSON file in `<out dir>/reports/`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from graph_runtime.backends.base import Backend
from graph_runtime.backends.factory import BackendSpecError, MissingApiKeyError, make_backend
from graph_runtime.backends.runware import RetryPolicy, RunwareBackend
from graph_runtime.cache import ResultCache, UploadCache
from graph_runtime.compile import CompileError, compile_workflow
from graph_runtime.document import Workflow, dumps_data, loads, to_data
from graph_runtime.events import CancelToken, EventKind, EventSink, null_sink
from graph_runtime.execute import ExecOptions, Executor, io_pool
from graph_runtime.outputs import OutputWriter, RunReport, TaskRecord
from graph_runtime.plan import Plan
from graph_runtime.png_metadata import read_embedded_workflow
from graph_runtime.problems import Problem, WorkflowLoadError

__all__ = [
    "BackendSpecError",
    "CompileError",
    "MissingApiKeyError",
    "MissingModelsError",
    "RunOptions",
    "RunReport",
    "TaskRecord",
    "load_embedded",
    "missing_local_models",
    "run_workflow",
]


@dataclass
class RunOptions:
    backend: str = "local"  # "cloud" | "local" | an http(s) URL of a Runware-compatible server
    api_key: str | None = field(default=None, repr=False)  # never written to a workflow, output, report or log
    out_dir: Path = Path("output")
    use_cache: bool = True
    cache_dir: Path | None = None  # None: config.cache_dir() (LOOMWARE_CACHE_DIR or the user cache folder)
    batch_size: int = 16  # tasks per request
    concurrency: int = 4  # requests in flight
    #: imageInference tasks with steps x images x megapixels >= this go out async and are polled; None: all sync.
    async_threshold: float | None = 400.0
    poll_interval: float = 1.0  # first getResponse poll after this many seconds (then backing off to 5 s)
    include_cost: bool = True  # ask for each item's cost; the report sums them
    default_output_format: str | None = None  # "PNG" / "JPG" / "WEBP" for inference tasks that set none
    max_image_bytes: int = 64 * 1024 * 1024  # downloads larger than this fail
    inline_images: bool = True  # images the run saves or caches come base64 in the answer, not by URL
    retry: RetryPolicy | None = None  # the cloud client's retries and timeouts
    seeds: dict[str, int] = field(default_factory=dict)  # node id -> seed for nodes that leave it unset
    local_options: dict[str, Any] = field(default_factory=dict)  # LocalBackend(**local_options)

    def exec_options(self) -> ExecOptions:
        return ExecOptions(
            batch_size=self.batch_size,
            concurrency=self.concurrency,
            async_threshold=self.async_threshold,
            poll_initial=self.poll_interval,
            poll_max=max(self.poll_interval, 5.0),
            include_cost=self.include_cost,
            max_image_bytes=self.max_image_bytes,
            default_output_format=self.default_output_format,
            use_cache=self.use_cache,
            inline_images=self.inline_images,
        )


class MissingModelsError(ValueError):
    """The local catalogue lacks models the workflow names; nothing ran."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("models missing from the local catalogue:\n" + "\n".join(f"  - {p}" for p in problems))


def missing_local_models(plan: Plan, local_options: dict[str, Any] | None = None) -> list[str]:
    """One line per model the local catalogue lacks (empty when the local engine offers no check)."""
    try:
        from graph_runtime.backends.local.catalog import Catalog, CatalogError
    except ImportError:
        return []
    catalog = (local_options or {}).get("catalog") or Catalog()
    if not hasattr(catalog, "missing"):
        return []
    try:
        missing = catalog.missing(task.to_api() for task in plan.tasks)
    except CatalogError as exc:
        return [str(exc)]
    nodes = {t.uuid: t.node_id for t in plan.tasks}
    return [f"node {nodes.get(m.task_uuid or '', '?')!r}, field {m.field}: {m.message}" for m in missing]


def load_embedded(image: str | Path, registry: Any | None = None) -> Workflow:
    """The workflow stored in an image Loomware wrote (PNG text chunk or sidecar JSON).

    Relative file paths in it resolve against the image's folder: pass `base_dir=image.parent` when running it.
    """
    text = read_embedded_workflow(image)
    if text is None:
        raise WorkflowLoadError([Problem(f"{image} holds no Loomware workflow (no PNG text chunk or sidecar JSON)")])
    try:
        return loads(text, registry)
    except WorkflowLoadError as exc:
        exc.source = str(image)
        raise


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def seeded_workflow_text(workflow: Workflow, plan: Plan, drawn: dict[str, int]) -> Callable[[], str]:
    """The canonical text (as document.dumps) of the workflow with each drawn seed written into its node, so the
    embedded graph reproduces the image.

    The workflow is copied now (0.3 ms); the text, milliseconds of pure Python for a big graph, is made by the
    returned function, which the writer calls while the run waits on the network.
    """
    data = to_data(workflow)
    nodes = data.get("nodes", {})
    for task in plan.tasks:
        if task.uuid in drawn and task.node_id in nodes:
            nodes[task.node_id].setdefault("params", {})["seed"] = drawn[task.uuid]
    return lambda: dumps_data(data)


async def run_workflow(
    workflow: Workflow,
    *,
    base_dir: Path,
    options: RunOptions,
    sink: EventSink = null_sink,
    cancel: CancelToken | None = None,
    backend: Backend | None = None,
) -> RunReport:
    """Run `workflow` and return its report. A given `backend` is used as is and left open."""
    io_pool()  # its threads start while the workflow compiles
    plan = compile_workflow(workflow, base_dir=base_dir)
    own_backend = backend is None
    if backend is None:
        if options.backend == "local" and (problems := missing_local_models(plan, options.local_options)):
            raise MissingModelsError(problems)
        backend = make_backend(
            options.backend, api_key=options.api_key, retry=options.retry, local_options=options.local_options
        )
    started = datetime.now().astimezone()
    run_id = new_run_id(started)
    out_dir = Path(options.out_dir)
    name = workflow.metadata.name
    writer = OutputWriter(out_dir, run_id, workflow_name=name, workflow_text=None, started=started)
    report = RunReport(run_id=run_id, workflow=name, backend=backend.name, started=started)
    cancel = cancel or CancelToken()
    try:
        from graph_runtime.config import cache_dir

        root = Path(options.cache_dir) if options.cache_dir else cache_dir()
        persistent_uuids = isinstance(backend, RunwareBackend)  # an in-process engine forgets UUIDs on exit
        executor = Executor(
            plan,
            backend,
            writer=writer,
            options=options.exec_options(),
            sink=sink,
            cancel=cancel,
            cache=ResultCache(root) if options.use_cache else None,
            uploads=UploadCache(root, backend.name) if options.use_cache and persistent_uuids else None,
            seeds={**options.seeds},
        )
        writer.defer_workflow_text(seeded_workflow_text(workflow, plan, executor.resolved_seeds))
        executor.emit(
            EventKind.RUN_STARTED,
            None,
            run_id=run_id,
            workflow=name,
            backend=backend.name,
            tasks=len(plan.tasks),
            outputs=len(plan.outputs),
            out_dir=str(out_dir),
        )
        result = await executor.run()
        report.tasks = result.records
        report.files = result.files
        report.previews = result.previews
        report.total_cost = round(result.total_cost, 6)
        report.seeds = result.seeds
        report.errors = result.errors
        report.status = "cancelled" if result.cancelled else "failed" if result.failed else "ok"
        report.cache = {"hits": sum(r.status == "cached" for r in result.records), "enabled": options.use_cache}
        if isinstance(backend, RunwareBackend):
            report.requests = backend.requests_sent
            report.retries = len(backend.retry_log)
    finally:
        report.finished = datetime.now().astimezone()
        if own_backend:
            await backend.aclose()
    await asyncio.get_running_loop().run_in_executor(io_pool(), writer.write_report, report)  # fsync: off the loop
    executor.emit(
        EventKind.RUN_FINISHED,
        None,
        status=report.status,
        report=str(report.report_path),
        files=len(report.files),
        total_cost=round(report.total_cost, 6),
    )
    return report
