"""The scheduler: runs a compiled Plan on a Backend.

- Dispatch by in-degree: a task goes out the moment its inputs exist. Tasks that become ready together share one
  request (grouped by taskType so a quick preprocess does not wait on a long inference; at most `batch_size`),
  and up to `concurrency` requests are in flight at once, so independent branches overlap.
- Fan-out: a Ref to a task that returned several items runs the dependent task once per item (ComfyUI's list
  semantics: with several multi-item inputs, copy i takes item min(i, n - 1) of each). Copies get new taskUUIDs.
- Cache by signature (see graph_runtime.cache); random seeds are drawn before hashing, so an unset seed gives a
  new image every run, as in ComfyUI, while fixed seeds hit the cache.
- A failed task fails only what depends on it; a key or balance error (401/402/403) stops the whole run.
- Cancel: nothing new goes out, requests in flight are dropped, finished results are still saved.
- Transport: a task whose image bytes the executor needs (it has an output, or its result is cached) asks for
  outputType "base64Data", so the image comes in the answer instead of costing a download round trip after it.
  This is added on the wire only, like includeCost: the plan and the cache signature stay as compiled.
- Disk work (staging images with their fsync, cache writes) runs in a pool of worker threads, many files at
  once, never on the event loop; results of one request are cached in one worker call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import random
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from graph_runtime.api_facts import RANDOM_SEED_MAX
from graph_runtime.backends.base import ApiError, Backend, BatchResult, JsonDict
from graph_runtime.cache import (
    VOLATILE_FIELDS,
    CachedResult,
    CacheEntry,
    ResultCache,
    UploadCache,
    fingerprint,
    image_prefixes,
    sha256_bytes,
)
from graph_runtime.events import CancelToken, Event, EventKind, EventSink, null_sink
from graph_runtime.outputs import OutputWriter, StagedImage, TaskRecord, data_uri, decode_inline
from graph_runtime.plan import FileRef, Plan, PlannedOutput, PlannedTask, Ref, map_values

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Task types whose missing seed the executor draws itself (so it is known, recorded and reproducible).
SEEDED_TASK_TYPES = ("imageInference",)
#: Task types that accept includeCost (uploads are free).
COSTED_TASK_TYPES = frozenset({"imageInference", "imageControlNetPreProcess", "controlNetPreprocess",
                               "imageUpscale", "upscale", "imageBackgroundRemoval", "removeBackground",
                               "imageCaption", "caption", "promptEnhance"})  # fmt: skip
#: Task types that make images and take outputType.
IMAGE_TASK_TYPES = frozenset({"imageInference", "imageControlNetPreProcess", "controlNetPreprocess",
                              "imageUpscale", "upscale", "imageBackgroundRemoval", "removeBackground"})  # fmt: skip
FATAL_STATUSES = frozenset({401, 402, 403})
CANCEL_CHECK_S = 0.05


@dataclass
class ExecOptions:
    batch_size: int = 16  # tasks in one request at most
    concurrency: int = 4  # requests in flight at once
    #: imageInference tasks whose work (steps x images x megapixels) reaches this go out with deliveryMethod
    #: "async" and are polled with getResponse; None keeps every task sync (one round trip, lowest latency).
    async_threshold: float | None = 400.0
    poll_initial: float = 1.0  # first getResponse after this many seconds, then x1.5 up to poll_max
    poll_max: float = 5.0
    async_timeout: float = 1800.0
    include_cost: bool = True
    max_image_bytes: int = 64 * 1024 * 1024
    default_output_format: str | None = None  # outputFormat for image tasks that set none
    use_cache: bool = True
    #: Ask for base64Data (not a URL) for images the executor will save or cache: one round trip, not two.
    inline_images: bool = True


IO_WORKERS = 16  # fsync-bound: concurrent fsyncs share journal commits (16 wrote ~2x faster than 6 here)
_io_pool: ThreadPoolExecutor | None = None
_io_pool_lock = threading.Lock()


def io_pool() -> ThreadPoolExecutor:
    """The process's threads for blocking disk work: staging images (fsync), cache writes, run reports.

    Shared by every run and started ahead of need: starting a thread blocks its caller until the thread runs, which
    took 1-3 ms per thread on a busy 2-core machine, so a pool made per run put ~20 ms on the event loop right when
    a run's images arrive. A helper thread starts all workers while the first request is still out.
    """
    global _io_pool
    with _io_pool_lock:
        if _io_pool is None:
            _io_pool = ThreadPoolExecutor(IO_WORKERS, thread_name_prefix="loomware-io")
            threading.Thread(target=_start_workers, args=(_io_pool,), name="loomware-io-start", daemon=True).start()
        return _io_pool


def _start_workers(pool: ThreadPoolExecutor) -> None:
    # A pool only adds a thread when none is idle: hold each one busy until all have started.
    release = threading.Event()
    try:
        for _ in range(IO_WORKERS):
            pool.submit(release.wait, 5.0)
    except RuntimeError:  # the interpreter is shutting down
        pass
    finally:
        release.set()


def is_fatal(err: ApiError) -> bool:
    return err.http_status in FATAL_STATUSES or type(err).__name__ in (
        "AuthenticationError",
        "InsufficientBalanceError",
    )


def _work_units(payload: JsonDict) -> float:
    if payload.get("taskType") != "imageInference":
        return 0.0
    try:
        pixels = float(payload.get("width", 1024)) * float(payload.get("height", 1024)) / 2**20
        return float(payload.get("steps", 20)) * float(payload.get("numberResults", 1)) * pixels
    except (TypeError, ValueError):
        return 0.0


def _expected_items(payload: JsonDict) -> int:
    if payload.get("taskType") == "imageInference":
        n = payload.get("numberResults", 1)
        return n if isinstance(n, int) and n > 0 else 1
    if payload.get("taskType") == "promptEnhance":
        n = payload.get("promptVersions", 1)
        return n if isinstance(n, int) and n > 0 else 1
    return 1


def _prefix_of(field_name: str) -> str | None:
    return field_name[: -len("UUID")] if field_name.endswith("UUID") else None


# ---------------------------------------------------------------------------------------------- state


@dataclass
class _Item:
    """One result item, and where its image bytes can be found without the network."""

    data: JsonDict
    instance: _Instance
    local_index: int
    cached: CachedResult | None = None  # from the result cache
    upload_bytes: bytes | None = None  # an upload: the local file's bytes
    persisted: bool = False  # its UUIDs come from an earlier run (may have expired on the server)
    images: dict[str, bytes] = field(default_factory=dict)  # bytes by prefix once known (decoded once)

    @property
    def seed(self) -> int | None:
        seed = self.data.get("seed")
        if isinstance(seed, int):
            return seed
        base = self.instance.sent.get("seed")
        return base + self.local_index if isinstance(base, int) else None


@dataclass
class _Instance:
    """One task that goes out (a planned task, or one fan-out copy of it)."""

    uuid: str
    state: _TaskState
    index: int
    sources: list[_Item | None]  # the upstream item this copy uses for each dep (None: no deps)
    payload: JsonDict = field(default_factory=dict)  # resolved, without run options
    sent: JsonDict = field(default_factory=dict)  # exactly what went to the backend
    sig: str | None = None
    status: str = "pending"  # pending | running | ok | cached | failed | cancelled | skipped
    items: list[_Item] = field(default_factory=list)
    error: ApiError | None = None
    started: float | None = None
    finished: float | None = None
    cost: float | None = None
    is_async: bool = False
    healed: bool = False
    upload_digest: str | None = None
    upload_bytes: bytes | None = None


@dataclass
class _TaskState:
    planned: PlannedTask
    waiting: set[str]
    deps: list[str] = field(default_factory=list)  # planned.deps, computed once
    dependents: list[str] = field(default_factory=list)
    status: str = "waiting"  # waiting | running | done | failed | skipped | cancelled
    instances: list[_Instance] = field(default_factory=list)
    results: list[_Item] = field(default_factory=list)
    error: ApiError | None = None
    remaining: int = 0

    @property
    def node(self) -> str:
        return self.planned.node_id


@dataclass
class ExecutionResult:
    records: list[TaskRecord] = field(default_factory=list)
    errors: list[JsonDict] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    previews: dict[str, list[Path]] = field(default_factory=dict)
    seeds: dict[str, list[int]] = field(default_factory=dict)
    total_cost: float = 0.0
    cancelled: bool = False
    failed: bool = False
    resolved_seeds: dict[str, int] = field(default_factory=dict)


class Executor:
    def __init__(
        self,
        plan: Plan,
        backend: Backend,
        *,
        writer: OutputWriter,
        options: ExecOptions | None = None,
        sink: EventSink = null_sink,
        cancel: CancelToken | None = None,
        cache: ResultCache | None = None,
        uploads: UploadCache | None = None,
        backend_key: str | None = None,
        seeds: dict[str, int] | None = None,
    ) -> None:
        self.plan = plan
        self.backend = backend
        self.writer = writer
        self.opts = options or ExecOptions()
        self._sink = sink
        self.cancel_token = cancel or CancelToken()
        self.cache = cache if self.opts.use_cache else None
        self.uploads = uploads if self.opts.use_cache else None
        self.backend_key = backend_key or backend.name
        self.result = ExecutionResult()
        # planned.deps walks the payload: once per task here, not at every use
        self.states: dict[str, _TaskState] = {}
        for t in plan.tasks:
            deps = t.deps
            self.states[t.uuid] = _TaskState(t, waiting=set(deps), deps=deps)
        for state in self.states.values():
            for dep in state.deps:
                self.states[dep].dependents.append(state.planned.uuid)
        self.outputs_by_task: dict[str, list[PlannedOutput]] = defaultdict(list)
        for out in plan.outputs:
            if isinstance(out.image, Ref):
                self.outputs_by_task[out.image.task_uuid].append(out)
        self.node_tasks: dict[str, set[str]] = defaultdict(set)  # tasks of each node not finished yet
        self.tasks_of_node: dict[str, list[str]] = defaultdict(list)
        for t in plan.tasks:
            self.node_tasks[t.node_id].add(t.uuid)
            self.tasks_of_node[t.node_id].append(t.uuid)
        self._node_started: set[str] = set()
        self._ready: deque[_Instance] = deque()
        self._background: set[asyncio.Task[Any]] = set()
        self._downloads: dict[str, asyncio.Task[bytes]] = {}
        self._fatal: ApiError | None = None
        self._to_prepare: deque[_TaskState] = deque()
        self._to_store: list[_Instance] = []
        self._io = io_pool()
        self.resolved_seeds = self._draw_seeds(seeds or {})
        self.result.resolved_seeds = dict(self.resolved_seeds)

    # -- events --------------------------------------------------------------------------------------------
    def emit(self, event_kind: EventKind, node: str | None = None, /, **data: Any) -> None:
        try:
            self._sink(Event(event_kind, node, data))
        except Exception:  # a broken display must never break a run
            log.exception("event sink failed on %s", event_kind)

    # -- seeds ---------------------------------------------------------------------------------------------
    def _draw_seeds(self, given: dict[str, int]) -> dict[str, int]:
        """A seed for every seeded task without one: drawn before hashing so it is recorded and reproducible."""
        out: dict[str, int] = {}
        rng = random.SystemRandom()
        for t in self.plan.tasks:
            if t.task_type in SEEDED_TASK_TYPES and "seed" not in t.payload:
                out[t.uuid] = given.get(t.uuid) or given.get(t.node_id) or rng.randint(1, RANDOM_SEED_MAX)
        return out

    # -- main loop -----------------------------------------------------------------------------------------
    async def run(self) -> ExecutionResult:
        queued = list(dict.fromkeys([t.node_id for t in self.plan.tasks] + [o.node_id for o in self.plan.outputs]))
        for node in queued:
            self.emit(EventKind.NODE_QUEUED, node)
        for out in self.plan.outputs:
            if not isinstance(out.image, Ref):
                self._spawn(self._save_literal(out))
        self._to_prepare.extend(s for s in self.states.values() if not s.waiting)

        inflight: set[asyncio.Task[None]] = set()
        prepared = False
        while True:
            self._drain_prepare()
            if self.cancel_token.cancelled or self._fatal is not None:
                break
            while self._ready and len(inflight) < self.opts.concurrency:
                inflight.add(asyncio.ensure_future(self._run_batch(self._take_batch())))
            if not inflight:
                if self._ready or self._to_prepare:
                    continue
                break
            done, _ = await asyncio.wait(inflight, timeout=CANCEL_CHECK_S, return_when=asyncio.FIRST_COMPLETED)
            if not prepared:  # the first requests are out: build the files' shared metadata while we wait
                prepared = True
                self._spawn(self._in_io(self.writer.prepare))
            for task in done:
                inflight.discard(task)
                if not task.cancelled() and (exc := task.exception()) is not None:
                    log.error("batch crashed", exc_info=exc)

        if inflight:  # cancelled or a fatal error: drop what is in flight
            for task in inflight:
                task.cancel()
            await asyncio.gather(*inflight, return_exceptions=True)
            running = [i.uuid for s in self.states.values() for i in s.instances if i.status == "running"]
            if running:
                try:
                    await self.backend.cancel(running)
                except Exception:  # best effort
                    log.debug("backend cancel failed", exc_info=True)
        self._stop_pending()
        self._flush_stores()
        while self._background:  # finished results are saved even after a cancel
            await asyncio.gather(*list(self._background), return_exceptions=True)
        return self._finish()

    async def _in_io(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Blocking disk work in the executor's worker threads (never on the event loop)."""
        return await asyncio.get_running_loop().run_in_executor(self._io, functools.partial(fn, *args, **kwargs))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Future[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background work failed", exc_info=exc)
            self.result.failed = True
            self.result.errors.append({"node": None, "code": "internalError", "message": repr(exc)})

    def _take_batch(self) -> list[_Instance]:
        first = self._ready.popleft()
        batch = [first]
        kind = first.state.planned.task_type
        rest: deque[_Instance] = deque()
        while self._ready and len(batch) < self.opts.batch_size:
            inst = self._ready.popleft()
            (batch if inst.state.planned.task_type == kind else rest).append(inst)
        rest.extend(self._ready)
        self._ready = rest
        return batch

    # -- preparing instances -------------------------------------------------------------------------------
    def _drain_prepare(self) -> None:
        # A queue, not recursion: a long chain served from the cache completes task after task right here.
        while self._to_prepare:
            state = self._to_prepare.popleft()
            if state.status == "waiting" and not self.cancel_token.cancelled and self._fatal is None:
                self._prepare(state)

    def _prepare(self, state: _TaskState) -> None:
        """All inputs exist: make the instances (fan-out), resolve references, look in the cache."""
        planned = state.planned
        deps = state.deps
        n = max((len(self.states[d].results) for d in deps), default=1)
        state.status = "running"
        for i in range(n):
            sources = {d: self.states[d].results[min(i, len(self.states[d].results) - 1)] for d in deps}
            inst = _Instance(planned.uuid if i == 0 else str(uuid.uuid4()), state, i, list(sources.values()))
            state.instances.append(inst)
            try:
                inst.payload, inst.sig = self._resolve(planned, inst, sources, inline_persisted=False)
            except ApiError as err:
                self._fail_instance(inst, err)
        state.remaining = sum(inst.status != "failed" for inst in state.instances)
        for inst in state.instances:
            if inst.status != "failed" and not self._try_cache(inst):
                self._ready.append(inst)
        if state.remaining == 0 and state.status == "running":
            self._complete_task(state)

    def _resolve(
        self, planned: PlannedTask, inst: _Instance, sources: dict[str, _Item], *, inline_persisted: bool
    ) -> tuple[JsonDict, str | None]:
        """The payload with every Ref and FileRef filled in, and its cache signature (None: not cacheable)."""
        fingerprintable = True

        def value(ref: Ref | FileRef) -> Any:
            if isinstance(ref, FileRef):
                data = self._read_file(ref.path, planned)
                inst.upload_digest = sha256_bytes(data)
                inst.upload_bytes = data
                return data_uri(data)
            item = sources[ref.task_uuid]
            if ref.field not in item.data:
                dep_node = self.states[ref.task_uuid].node
                raise ApiError("missingResult", f"the result of node {dep_node!r} has no {ref.field}",
                               parameter=ref.field, task_uuid=inst.uuid)  # fmt: skip
            val = item.data[ref.field]
            prefix = _prefix_of(ref.field)
            if inline_persisted and item.persisted and prefix:
                data = self._known_bytes(item, prefix)
                if data is not None:
                    return data_uri(data)
            return val

        def signature(ref: Ref | FileRef) -> Any:
            nonlocal fingerprintable
            if isinstance(ref, FileRef):
                return {"$file": inst.upload_digest}
            item = sources[ref.task_uuid]
            if item.instance.sig is None:
                fingerprintable = False
                return None
            return {"$ref": item.instance.sig, "field": ref.field, "item": item.local_index}

        payload = map_values(planned.payload, value)
        payload["taskUUID"] = inst.uuid
        if planned.uuid in self.resolved_seeds:
            payload["seed"] = self.resolved_seeds[planned.uuid]
        if self.opts.default_output_format and planned.task_type == "imageInference":
            payload.setdefault("outputFormat", self.opts.default_output_format)
        if self.cache is None:
            return payload, None
        sig_body = map_values(planned.payload, signature)
        sig_body = {k: v for k, v in sig_body.items() if k not in VOLATILE_FIELDS}
        for k in ("seed", "outputFormat"):
            if k in payload:
                sig_body[k] = payload[k]
        sig = fingerprint({"backend": self.backend_key, "task": sig_body}) if fingerprintable else None
        return payload, sig

    def _read_file(self, path: str, planned: PlannedTask) -> bytes:
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise ApiError("fileNotFound", f"node {planned.node_id!r}: cannot read {path}: {exc.strerror}",
                           parameter="image", task_uuid=planned.uuid) from None  # fmt: skip

    def _try_cache(self, inst: _Instance) -> bool:
        """Serve an instance from the upload or result cache; True when it needs no request."""
        planned = inst.state.planned
        if planned.task_type == "imageUpload" and self.uploads is not None and inst.upload_digest:
            cached_uuid = self.uploads.get(inst.upload_digest)
            if cached_uuid:
                item = {"taskType": "imageUpload", "taskUUID": inst.uuid, "imageUUID": cached_uuid}
                inst.sent = inst.payload
                self._finish_instance(inst, [item], None, cached=True)
                return True
        if self.cache is None or inst.sig is None or planned.task_type == "imageUpload":
            return False
        hit = self.cache.get(inst.sig)  # a small JSON read: cheaper than a thread hop
        if hit is None:
            return False
        items = [{**it, "taskUUID": inst.uuid} for it in hit.items]
        inst.sent = inst.payload
        self._finish_instance(inst, items, None, cached=True, cached_result=hit)
        return True

    # -- sending -------------------------------------------------------------------------------------------
    def _wire_task(self, inst: _Instance) -> JsonDict:
        task = dict(inst.payload)
        planned = inst.state.planned
        if self.opts.include_cost and planned.task_type in COSTED_TASK_TYPES:
            task.setdefault("includeCost", True)
        if self.opts.inline_images and "outputType" not in task and self._needs_image_bytes(inst):
            task["outputType"] = "base64Data"
        threshold = self.opts.async_threshold
        if task.get("deliveryMethod") == "async" or (threshold is not None and _work_units(task) >= threshold):
            task["deliveryMethod"] = "async"
            inst.is_async = True
        return task

    def _needs_image_bytes(self, inst: _Instance) -> bool:
        """Will this run save or cache the images of this task (so they are worth sending inline)?"""
        planned = inst.state.planned
        if planned.task_type not in IMAGE_TASK_TYPES:
            return False
        return planned.uuid in self.outputs_by_task or (self.cache is not None and inst.sig is not None)

    async def _run_batch(self, batch: list[_Instance]) -> None:
        now = time.time()
        for inst in batch:
            inst.status = "running"
            inst.started = now
            inst.sent = self._wire_task(inst)
            if inst.state.node not in self._node_started:
                self._node_started.add(inst.state.node)
                self.emit(EventKind.NODE_STARTED, inst.state.node, taskUUID=inst.uuid)
        try:
            result = await self.backend.submit([inst.sent for inst in batch])
        except asyncio.CancelledError:
            raise
        except ApiError as err:
            result = BatchResult(errors=[err])
        except Exception as exc:
            log.exception("backend %s failed", self.backend.name)
            result = BatchResult(errors=[ApiError("internalError", f"{type(exc).__name__}: {exc}")])

        pending_async: list[_Instance] = []
        heal: list[_Instance] = []
        for inst in batch:
            items, err = self._outcome(inst, result, batch)
            if inst.is_async and err is None:
                done = [i for i in items if _is_result(i)]
                if len(done) >= _expected_items(inst.sent):
                    self._finish_instance(inst, done, None)
                else:
                    pending_async.append(inst)
                continue
            if err is not None and self._should_heal(inst, err):
                heal.append(inst)
                continue
            self._finish_instance(inst, items, err)
        if pending_async:
            await self._poll(pending_async)
        if heal:
            await self._heal(heal)

    def _outcome(
        self, inst: _Instance, result: BatchResult, batch: list[_Instance]
    ) -> tuple[list[JsonDict], ApiError | None]:
        items = result.items_for(inst.uuid)
        errors = result.errors_for(inst.uuid)
        if not errors and not items:
            # An error that names no task belongs to every task of the request that got nothing.
            errors = [e for e in result.errors if e.task_uuid is None or e.task_uuid not in {b.uuid for b in batch}]
        err = errors[0] if errors else None
        if err is None and not items and not inst.is_async:
            err = ApiError("missingResult", "the backend answered without a result for this task",
                           task_uuid=inst.uuid)  # fmt: skip
        return items, err

    def _should_heal(self, inst: _Instance, err: ApiError) -> bool:
        """A task that used image UUIDs from an earlier run failed: they may have expired; send the bytes."""
        return not inst.healed and not is_fatal(err) and any(src is not None and src.persisted for src in inst.sources)

    async def _heal(self, batch: list[_Instance]) -> None:
        for inst in batch:
            inst.healed = True
            for src in inst.sources:
                if src is not None and src.persisted and src.instance.upload_digest and self.uploads is not None:
                    self.uploads.forget(src.instance.upload_digest)
            sources = dict(zip(inst.state.deps, inst.sources, strict=False))
            inst.payload, _ = self._resolve(inst.state.planned, inst, sources, inline_persisted=True)
        log.info("re-sending %d task(s) with inline images (cached UUIDs were refused)", len(batch))
        await self._run_batch(batch)

    async def _poll(self, pending: list[_Instance]) -> None:
        waiting = {inst.uuid: inst for inst in pending}
        delay = self.opts.poll_initial
        deadline = time.monotonic() + self.opts.async_timeout
        while waiting:
            if time.monotonic() > deadline:
                for inst in waiting.values():
                    self._finish_instance(inst, [], ApiError("timeout", "no result before the async timeout",
                                                             task_uuid=inst.uuid))  # fmt: skip
                return
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, self.opts.poll_max)
            try:
                result = await self.backend.poll(list(waiting))
            except ApiError as err:
                result = BatchResult(errors=[err])
            batch = list(waiting.values())
            for inst in batch:
                items = result.items_for(inst.uuid)
                errors = result.errors_for(inst.uuid) or [e for e in result.errors if e.task_uuid is None]
                failed = [i for i in items if i.get("status") == "error"]
                done = [i for i in items if _is_result(i)]
                if errors or failed:
                    err = errors[0] if errors else ApiError.from_api(failed[0])
                    self._finish_instance(inst, done, err)
                elif len(done) >= _expected_items(inst.sent):
                    self._finish_instance(inst, done, None)
                else:
                    progress = [i.get("progress") for i in items if isinstance(i.get("progress"), int | float)]
                    share = len(done) / _expected_items(inst.sent)
                    if progress:
                        p = float(max(progress))
                        share = max(share, p / 100 if p > 1 else p)
                    self.emit(EventKind.NODE_PROGRESS, inst.state.node, progress=round(share, 4), taskUUID=inst.uuid)
                    continue
                del waiting[inst.uuid]

    # -- finishing -----------------------------------------------------------------------------------------
    def _fail_instance(self, inst: _Instance, err: ApiError) -> None:
        inst.status = "failed"
        inst.error = err
        inst.finished = time.time()

    def _finish_instance(
        self,
        inst: _Instance,
        items: list[JsonDict],
        err: ApiError | None,
        *,
        cached: bool = False,
        cached_result: CachedResult | None = None,
    ) -> None:
        if inst.status in ("ok", "cached", "failed", "cancelled"):
            return
        inst.finished = time.time()
        persisted = cached
        inst.items = [
            _Item(data, inst, k, cached=cached_result, persisted=persisted,
                  upload_bytes=inst.upload_bytes if inst.state.planned.task_type == "imageUpload" else None)
            for k, data in enumerate(items)
        ]  # fmt: skip
        if err is not None:
            if err.task_uuid != inst.uuid:  # an error for the whole request: each task gets its own copy
                err = dataclasses.replace(err, task_uuid=inst.uuid)
            inst.status = "failed"
            inst.error = err
            if is_fatal(err) and self._fatal is None:
                self._fatal = err
        else:
            inst.status = "cached" if cached else "ok"
        costs = [it.get("cost") for it in items if isinstance(it.get("cost"), int | float)]
        if costs and not cached:
            inst.cost = float(sum(costs))
            self.result.total_cost += inst.cost
            self.emit(EventKind.COST, inst.state.node, cost=inst.cost, total=round(self.result.total_cost, 6))
        if inst.status == "ok":
            if inst.upload_digest and self.uploads is not None and items and items[0].get("imageUUID"):
                self._spawn(self._in_io(self.uploads.put, inst.upload_digest, str(items[0]["imageUUID"])))
            elif self.cache is not None and inst.sig is not None and inst.state.planned.task_type != "imageUpload":
                self._queue_store(inst)
        state = inst.state
        if len(state.instances) > 1:
            done = sum(i.status not in ("pending", "running") for i in state.instances)
            self.emit(EventKind.NODE_PROGRESS, state.node, progress=round(done / len(state.instances), 4))
        state.remaining -= 1
        if state.remaining == 0 and state.status == "running":
            self._complete_task(state)

    def _complete_task(self, state: _TaskState) -> None:
        state.results = [item for inst in state.instances for item in inst.items if inst.status in ("ok", "cached")]
        failures = [i for i in state.instances if i.status == "failed"]
        if failures:
            state.status = "failed"
            state.error = failures[0].error
        else:
            state.status = "done"
        for inst in state.instances:
            for item in inst.items:
                if item.seed is not None and inst.status in ("ok", "cached"):
                    self.result.seeds.setdefault(state.node, []).append(item.seed)
        self._task_done_for_node(state)
        for out in self.outputs_by_task.get(state.planned.uuid, []):
            if state.results:
                self._spawn(self._save_output(out, state))
            else:
                self._skip_output(out, state.node if state.status == "failed" else None)
        for dep_uuid in state.dependents:
            dep = self.states[dep_uuid]
            dep.waiting.discard(state.planned.uuid)
            if dep.status != "waiting":
                continue
            if not state.results:
                self._skip(dep, reason="upstream failed", upstream=state.node)
            elif not dep.waiting:
                self._to_prepare.append(dep)

    def _task_done_for_node(self, state: _TaskState) -> None:
        node = state.node
        remaining = self.node_tasks[node]
        remaining.discard(state.planned.uuid)
        if remaining:
            return
        states = [self.states[u] for u in self.tasks_of_node[node]]
        failed = [s for s in states if s.status == "failed"]
        if failed:
            err = failed[0].error or ApiError("failed", "failed")
            self.emit(EventKind.NODE_FAILED, node, **_error_data(err))
        elif all(s.status == "skipped" for s in states):
            return
        elif all(i.status == "cached" for s in states for i in s.instances):
            self.emit(EventKind.NODE_CACHED, node)
        else:
            self.emit(EventKind.NODE_FINISHED, node, items=sum(len(s.results) for s in states))

    def _skip(self, first: _TaskState, *, reason: str, upstream: str | None = None) -> None:
        """Skip a task, its outputs and everything downstream (iteratively: chains can be long)."""
        stack = [(first, upstream)]
        while stack:
            state, up = stack.pop()
            if state.status in ("skipped", "done", "failed", "cancelled"):
                continue
            state.status = "cancelled" if reason == "cancelled" else "skipped"
            self.node_tasks[state.node].discard(state.planned.uuid)
            if not self.node_tasks[state.node]:
                self.emit(EventKind.NODE_SKIPPED, state.node, reason=reason, **({"upstream": up} if up else {}))
            for out in self.outputs_by_task.get(state.planned.uuid, []):
                self._skip_output(out, up or state.node, reason=reason)
            stack.extend((self.states[d], up or state.node) for d in state.dependents)

    def _skip_output(self, out: PlannedOutput, upstream: str | None, reason: str = "upstream failed") -> None:
        self.emit(EventKind.NODE_SKIPPED, out.node_id, reason=reason, **({"upstream": upstream} if upstream else {}))

    def _stop_pending(self) -> None:
        """After a cancel or a fatal error: everything not finished is cancelled/skipped."""
        reason = "cancelled" if self.cancel_token.cancelled else "run stopped"
        for state in self.states.values():
            if state.status == "running":
                for inst in state.instances:
                    if inst.status in ("pending", "running"):
                        inst.status = "cancelled" if reason == "cancelled" else "skipped"
                        inst.finished = time.time()
                state.remaining = 0
                state.status = "waiting"  # let _skip handle the node, outputs and dependents
                state.results = [it for i in state.instances for it in i.items if i.status in ("ok", "cached")]
                if state.results:  # copies that did finish are still saved
                    for out in self.outputs_by_task.get(state.planned.uuid, []):
                        self._spawn(self._save_output(out, state))
                    self.outputs_by_task.pop(state.planned.uuid, None)
                self._skip(state, reason=reason)
            elif state.status == "waiting":
                self._skip(state, reason=reason)
        self._ready.clear()

    # -- images ----------------------------------------------------------------------------------------------
    def _known_bytes(self, item: _Item, prefix: str) -> bytes | None:
        """Image bytes available without the network (cache blob, inline data, uploaded file), read here and now:
        for re-sending an expired image inline, which is rare."""
        data = item.images.get(prefix)
        if data is None and item.cached is not None:
            data = item.cached.image_bytes(item.local_index, prefix)
        if data is None:
            try:
                data = self._local_bytes(item, prefix)
            except ApiError:
                return None
        return data

    def _local_bytes(self, item: _Item, prefix: str) -> bytes | None:
        """Inline data (size-checked as a download is) or the uploaded file's bytes."""
        data = self._inline_bytes(item, prefix)
        if data is None and item.upload_bytes is not None and prefix == "image":
            data = item.upload_bytes
        return data

    async def _image_bytes(self, item: _Item, prefix: str) -> bytes:
        """The bytes of one image of a result, found once per item (the cache and each output share them): cache
        blob (read in a worker thread), inline data, the uploaded file, else a download."""
        data = item.images.get(prefix)
        if data is not None:
            return data
        if item.cached is not None and (item.local_index, prefix) in item.cached.images:
            data = await self._in_io(item.cached.image_bytes, item.local_index, prefix)
        if data is None:
            data = self._local_bytes(item, prefix)
        if data is None:
            url = item.data.get(f"{prefix}URL")
            if not isinstance(url, str) or not url:
                raise ApiError("noImageData", f"the result has no {prefix}URL, {prefix}Base64Data or {prefix}DataURI",
                               task_uuid=item.instance.uuid)  # fmt: skip
            data = await self._download(url)
        item.images[prefix] = data
        return data

    def _inline_bytes(self, item: _Item, prefix: str) -> bytes | None:
        for key in (f"{prefix}Base64Data", f"{prefix}DataURI"):
            value = item.data.get(key)
            if not isinstance(value, str) or not value:
                continue
            if len(value) > self.opts.max_image_bytes * 4 // 3 + 64:  # the cap a download has, before decoding
                raise ApiError("imageTooLarge", f"{key} is larger than the limit of {self.opts.max_image_bytes} bytes",
                               task_uuid=item.instance.uuid)  # fmt: skip
            try:
                return decode_inline(value)
            except ValueError:
                continue
        return None

    async def _download(self, url: str) -> bytes:
        if url not in self._downloads:  # one download per URL, shared by outputs and the cache
            self._downloads[url] = asyncio.ensure_future(self.backend.fetch_image(url, self.opts.max_image_bytes))
        return await asyncio.shield(self._downloads[url])

    def _queue_store(self, inst: _Instance) -> None:
        """Cache a fresh result. Results that finish together (one request's) are written in one worker call."""
        if not self._to_store:
            asyncio.get_running_loop().call_soon(self._flush_stores)
        self._to_store.append(inst)

    def _flush_stores(self) -> None:
        if self._to_store:
            batch, self._to_store = self._to_store, []
            self._spawn(self._store(batch))

    async def _store(self, batch: list[_Instance]) -> None:
        assert self.cache is not None
        entries = await asyncio.gather(*(self._cache_entry(inst) for inst in batch))
        ready = [entry for entry in entries if entry is not None]
        if ready:
            await self._in_io(self.cache.put_many, ready)

    async def _cache_entry(self, inst: _Instance) -> CacheEntry | None:
        """A fresh result with the bytes of every image in it; on any doubt, None (the next run re-runs it)."""
        try:
            images: dict[tuple[int, str], bytes] = {}
            for item in inst.items:
                for prefix in image_prefixes(item.data):
                    if any(f"{prefix}{s}" in item.data for s in ("URL", "Base64Data", "DataURI")):
                        images[(item.local_index, prefix)] = await self._image_bytes(item, prefix)
        except Exception as exc:
            log.info("result of %s not cached: %s", inst.uuid, exc)
            return None
        assert inst.sig is not None
        return inst.sig, [i.data for i in inst.items], images

    async def _save_output(self, out: PlannedOutput, state: _TaskState) -> None:
        """Write every image of an output. All are staged (written and flushed) at once in worker threads; then
        they take their names in index order, so names and image_saved events stay in order."""
        assert isinstance(out.image, Ref)
        prefix = _prefix_of(out.image.field) or "image"
        self.emit(EventKind.NODE_STARTED, out.node_id)
        items = state.results
        paths: list[Path] = []
        errors: list[ApiError] = []

        def saved(index: int, outcome: Path | ApiError) -> None:
            if isinstance(outcome, ApiError):
                errors.append(outcome)
                return
            paths.append(outcome)
            self._record_file(out, outcome)
            self.emit(EventKind.IMAGE_SAVED, out.node_id, path=str(outcome), seed=items[index].seed, index=index,
                      kind=out.kind)  # fmt: skip

        if len(items) == 1:  # nothing to order: stage and name in one worker call
            saved(0, await self._write_item(out, 0, items[0], prefix))
        else:
            staged = await asyncio.gather(*(self._stage_item(out, i, item, prefix) for i, item in enumerate(items)))
            committed = 0
            try:
                for index, one in enumerate(staged):
                    saved(index, await self._commit(one) if isinstance(one, StagedImage) else one)
                    committed += 1
            finally:  # reached early only if this task was cancelled: leave no temporary file behind
                for one in staged[committed:]:
                    if isinstance(one, StagedImage):
                        self.writer.discard(one)
        self._output_done(out, paths, errors)

    async def _write_item(self, out: PlannedOutput, index: int, item: _Item, prefix: str) -> Path | ApiError:
        try:
            data = await self._image_bytes(item, prefix)
            return await self._in_io(self.writer.write, out, index, data, seed=item.seed, task=item.instance.sent)
        except ApiError as err:
            return err
        except (OSError, ValueError) as exc:
            return ApiError("writeFailed", f"{type(exc).__name__}: {exc}")

    async def _stage_item(self, out: PlannedOutput, index: int, item: _Item, prefix: str) -> StagedImage | ApiError:
        try:
            data = await self._image_bytes(item, prefix)
            return await self._in_io(self.writer.stage, out, index, data, seed=item.seed, task=item.instance.sent)
        except ApiError as err:
            return err
        except (OSError, ValueError) as exc:
            return ApiError("writeFailed", f"{type(exc).__name__}: {exc}")

    async def _commit(self, staged: StagedImage) -> Path | ApiError:
        try:
            return await self._in_io(self.writer.commit, staged)
        except (OSError, ValueError) as exc:
            return ApiError("writeFailed", f"{type(exc).__name__}: {exc}")

    async def _save_literal(self, out: PlannedOutput) -> None:
        """An output wired straight to a URL / data URI (no task made it)."""
        value = str(out.image)
        self.emit(EventKind.NODE_STARTED, out.node_id)
        try:
            if value.startswith(("http://", "https://")):
                data = await self._download(value)
            elif value.startswith("data:"):
                data = decode_inline(value)
            else:
                raise ApiError("noImageData", f"{value!r} is an image UUID; only URLs and files can be saved")
            path = await self._in_io(self.writer.write, out, 0, data, seed=None, task=None)
        except (ApiError, OSError, ValueError) as exc:
            err = exc if isinstance(exc, ApiError) else ApiError("writeFailed", str(exc))
            self._output_done(out, [], [err])
            return
        self._record_file(out, path)
        self.emit(EventKind.IMAGE_SAVED, out.node_id, path=str(path), seed=None, index=0, kind=out.kind)
        self._output_done(out, [path], [])

    def _record_file(self, out: PlannedOutput, path: Path) -> None:
        if out.kind == "preview":
            self.result.previews.setdefault(out.node_id, []).append(path)
        else:
            self.result.files.append(path)

    def _output_done(self, out: PlannedOutput, paths: list[Path], errors: list[ApiError]) -> None:
        images = [str(p) for p in paths]
        if errors:
            self.result.failed = True
            for err in errors:
                self.result.errors.append({"node": out.node_id, **err.to_api(), "httpStatus": err.http_status})
            self.emit(EventKind.NODE_FAILED, out.node_id, images=images, **_error_data(errors[0]))
        else:
            self.emit(EventKind.NODE_FINISHED, out.node_id, images=images)

    # -- summary -------------------------------------------------------------------------------------------
    def _finish(self) -> ExecutionResult:
        res = self.result
        res.cancelled = self.cancel_token.cancelled
        for state in self.states.values():
            planned = state.planned
            instances = state.instances or [_Instance(planned.uuid, state, 0, [])]
            for inst in instances:
                status = inst.status if inst.status != "pending" else state.status
                status = {"done": "ok", "waiting": "skipped", "running": "cancelled"}.get(status, status)
                record = TaskRecord(
                    task_uuid=inst.uuid,
                    node=planned.node_id,
                    task_type=planned.task_type,
                    status=status,
                    copy_of=planned.uuid if inst.uuid != planned.uuid else None,
                    started=inst.started,
                    finished=inst.finished,
                    seed=(inst.sent or inst.payload).get("seed") if planned.task_type in SEEDED_TASK_TYPES else None,
                    seeds=[s for it in inst.items if (s := it.seed) is not None],
                    items=len(inst.items),
                    cost=inst.cost,
                    delivery="async" if inst.is_async else "sync",
                    error={**inst.error.to_api(), "httpStatus": inst.error.http_status} if inst.error else None,
                )
                res.records.append(record)
                if inst.error is not None:
                    res.failed = True
                    res.errors.append({"node": planned.node_id, **record.error})  # type: ignore[dict-item]
        if self._fatal is not None:
            res.failed = True
        return res


def _is_result(item: JsonDict) -> bool:
    """A finished result item (not an async acknowledgement or a "processing" status)."""
    status = item.get("status")
    if status is not None:
        return status == "success"
    return any(k not in ("taskType", "taskUUID") for k in item)


def _error_data(err: ApiError) -> JsonDict:
    data: JsonDict = {"error": err.message or str(err), "code": err.code}
    if err.parameter:
        data["parameter"] = err.parameter
    if err.task_uuid:
        data["taskUUID"] = err.task_uuid
    if err.http_status:
        data["httpStatus"] = err.http_status
    return data
