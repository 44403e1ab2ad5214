"""LocalBackend: the Runware image API served in-process by diffusers on this machine's GPU or CPU.

Inference runs on one worker thread per engine (one image at a time per device), so the event loop stays free
and many callers simply queue. Uploads and weight-free preprocessing run beside it on ordinary threads.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from graph_runtime.api_facts import RANDOM_SEED_MAX
from graph_runtime.backends.base import ApiError, Backend, BatchResult, JsonDict
from graph_runtime.backends.local import preprocess
from graph_runtime.backends.local.catalog import Catalog, ModelNotFoundError
from graph_runtime.backends.local.images import (
    FORMAT_INFO,
    LOCAL_URL_SCHEME,
    REF_FORMS,
    ImageStore,
    decode_image,
    decode_inline,
    encode_image,
    is_uuid,
    output_fields,
)
from graph_runtime.backends.local.remote_images import RemoteImageFetcher
from graph_runtime.backends.local.schedulers import supported_schedulers
from graph_runtime.backends.local.task_params import (
    InferenceRequest,
    OutputOptions,
    invalid,
    read_delivery,
    read_inference,
    read_preprocess,
    read_upload_image,
)

log = logging.getLogger(__name__)

PREPROCESS_TASKS = ("imageControlNetPreProcess", "controlNetPreprocess")
TASK_TYPES = ("imageInference", "imageUpload", *PREPROCESS_TASKS, "getResponse")
MAX_JOBS = 10_000  # finished async tasks remembered for getResponse


@dataclass
class _Job:
    """An async task: its results so far, filled from the worker thread."""

    task_type: str
    task_uuid: str
    items: list[JsonDict] = field(default_factory=list)
    errors: list[ApiError] = field(default_factory=list)
    done: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class LocalBackend(Backend):
    """Runs API tasks with diffusers on models from a local `Catalog` (the default models folder if None)."""

    name = "local"

    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        memory_budget_bytes: int | None = None,
        allow_remote_images: bool = False,
        max_remote_image_bytes: int = 32 * 1024 * 1024,
        image_store_bytes: int = 1 << 30,
    ) -> None:
        self.catalog = catalog or Catalog()
        self.images = ImageStore(image_store_bytes)
        self._device_args = (device, dtype, memory_budget_bytes)
        self._models: Any = None  # ModelCache, created on the worker thread (it imports torch)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loomware-local-inference")
        self._jobs: OrderedDict[str, _Job] = OrderedDict()
        self._cancelled: set[str] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._fetcher = RemoteImageFetcher(max_bytes=max_remote_image_bytes) if allow_remote_images else None

    # -- the Backend interface -----------------------------------------------------------------------------
    async def submit(self, tasks: list[JsonDict]) -> BatchResult:
        result = BatchResult()
        runs: list[Awaitable[tuple[list[JsonDict], list[ApiError]]]] = []
        seen: set[str] = set()
        for index, task in enumerate(tasks):
            if not isinstance(task, dict):
                result.errors.append(invalid(f"[{index}]", "each task must be a JSON object"))
                continue
            task_type, task_uuid = task.get("taskType"), task.get("taskUUID")
            if task_type == "authentication":
                continue  # keys are the server's business; in-process there is nothing to check
            if task_type == "getResponse":
                polled = await self.poll([task_uuid] if isinstance(task_uuid, str) else [])
                result.items.extend(polled.items)
                result.errors.extend(polled.errors)
                continue
            try:
                self._check_envelope(task_type, task_uuid, seen)
                delivery = read_delivery(task)
            except ApiError as err:
                result.errors.append(_scoped(err, task_type, task_uuid))
                continue
            seen.add(task_uuid)
            if delivery == "async":
                self._start_job(task)
                result.items.append({"taskType": task_type, "taskUUID": task_uuid, "status": "processing"})
            else:
                runs.append(self._run_task(task))
        for items, errors in await asyncio.gather(*runs):
            result.items.extend(items)
            result.errors.extend(errors)
        return result

    async def poll(self, task_uuids: list[str]) -> BatchResult:
        result = BatchResult()
        if not task_uuids:
            result.errors.append(invalid("taskUUID", "getResponse needs the taskUUID of an async task"))
        for task_uuid in task_uuids:
            job = self._jobs.get(task_uuid)
            if job is None:
                result.errors.append(
                    ApiError(
                        "taskNotFound",
                        f"no async task with taskUUID {task_uuid} (sent with deliveryMethod 'async')",
                        parameter="taskUUID",
                        task_type="getResponse",
                        task_uuid=task_uuid,
                        http_status=404,
                    )
                )
                continue
            with job.lock:
                result.items.extend({**item, "status": "success"} for item in job.items)
                result.errors.extend(job.errors)
                if not job.done:
                    result.items.append({"taskType": job.task_type, "taskUUID": job.task_uuid, "status": "processing"})
        return result

    async def cancel(self, task_uuids: list[str]) -> None:
        self._cancelled.update(task_uuids)

    async def fetch_image(self, url: str, max_bytes: int) -> bytes:
        """Serve this engine's own URL outputs (`loomware-local://<imageUUID>.<ext>`)."""
        stored = self.images.by_name(url[len(LOCAL_URL_SCHEME) :]) if url.startswith(LOCAL_URL_SCHEME) else None
        if stored is None:
            raise ApiError("imageNotFound", f"{url} is not an image of this local engine (or it expired)")
        if len(stored.data) > max_bytes:
            raise ApiError("imageTooLarge", f"{url} is {len(stored.data)} bytes; the limit is {max_bytes}")
        return stored.data

    async def aclose(self) -> None:
        for job_task in list(self._background):
            job_task.cancel()
        self._cancelled.update(self._jobs)
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)
        if self._fetcher is not None:
            await self._fetcher.aclose()
        self._models = None

    # -- engine state --------------------------------------------------------------------------------------
    @property
    def models(self) -> Any:
        """The ModelCache (loaded pipelines); created on first use. Tests and the bench inspect it."""
        if self._models is None:
            from graph_runtime.backends.local.device import choose_device
            from graph_runtime.backends.local.model_cache import ModelCache

            quiet_libraries()
            self._models = ModelCache(self.catalog, choose_device(*self._device_args))
        return self._models

    def _check_envelope(self, task_type: Any, task_uuid: Any, seen: set[str]) -> None:
        if task_type not in TASK_TYPES:
            raise ApiError(
                "unsupportedTaskType",
                f"taskType {task_type!r} is not served by the local engine; one of: {', '.join(TASK_TYPES)}",
                parameter="taskType",
                http_status=400,
                extra={"allowedValues": list(TASK_TYPES)},
            )
        if not isinstance(task_uuid, str) or not is_uuid(task_uuid):
            raise invalid("taskUUID", "is required and must be a UUID (e.g. from uuid.uuid4())")
        if task_uuid in seen or task_uuid in self._jobs:
            raise invalid("taskUUID", f"{task_uuid} is already used by another task")

    def _start_job(self, task: JsonDict) -> None:
        job = _Job(task["taskType"], task["taskUUID"])
        self._jobs[job.task_uuid] = job
        while len(self._jobs) > MAX_JOBS:
            oldest = next(iter(self._jobs))
            if not self._jobs[oldest].done:
                break
            del self._jobs[oldest]

        async def run() -> None:
            try:
                _, errors = await self._run_task(task, job)
                with job.lock:
                    job.errors.extend(_with_status(e) for e in errors)
            finally:
                job.done = True

        handle = asyncio.get_running_loop().create_task(run())
        self._background.add(handle)
        handle.add_done_callback(self._background.discard)

    async def _run_task(self, task: JsonDict, job: _Job | None = None) -> tuple[list[JsonDict], list[ApiError]]:
        """Run one task; an error stays scoped to it (the rest of the batch is unaffected)."""
        task_type, task_uuid = task["taskType"], task["taskUUID"]
        items: list[JsonDict] = []

        def emit(item: JsonDict) -> None:
            items.append(item)
            if job is not None:
                with job.lock:
                    job.items.append(item)

        try:
            if task_type == "imageInference":
                await self._inference(task, emit)
            elif task_type == "imageUpload":
                emit(await self._upload(task))
            else:
                emit(await self._preprocess(task))
            return items, []
        except ApiError as err:
            return items, [_scoped(err, task_type, task_uuid)]
        except Exception as exc:  # a fault in diffusers or torch: report it, keep serving
            log.exception("local engine task %s failed", task_uuid)
            err = ApiError("inferenceFailed", f"{exc.__class__.__name__}: {exc}", http_status=500)
            return items, [_scoped(err, task_type, task_uuid)]
        finally:
            self._cancelled.discard(task_uuid)

    # -- task types ----------------------------------------------------------------------------------------
    async def _inference(self, task: JsonDict, emit: Callable[[JsonDict], None]) -> None:
        req = read_inference(task, task["taskUUID"])
        if req.scheduler is not None and req.scheduler not in (names := supported_schedulers()):
            raise ApiError(
                "unsupportedScheduler",
                f"scheduler {req.scheduler!r} is not supported by the local engine; one of: {', '.join(names)}",
                parameter="scheduler",
                http_status=400,
                extra={"allowedValues": names},
            )
        if missing := self.catalog.missing([task]):
            first = missing[0]
            names = ", ".join(f"{m.field} {m.air}" for m in missing)
            raise ApiError(
                "modelNotFound",
                f"not in the local model catalogue ({self.catalog.root}): {names}. "
                + str(ModelNotFoundError(first.air, first.kind)),
                parameter=first.field,
                http_status=400,
                extra={"missingModels": [m.air for m in missing]},
            )
        images = await self._inference_images(req)
        base = req.seed if req.seed is not None else secrets.randbelow(RANDOM_SEED_MAX) + 1
        seeds = [base + i for i in range(req.number_results)]
        loop = asyncio.get_running_loop()

        def on_image(image: Image.Image, seed: int) -> None:
            emit({"taskType": "imageInference", "taskUUID": req.task_uuid, **self._store(image, req.output, "image"),
                  "seed": seed, **_cost(req.output)})  # fmt: skip

        def work() -> None:
            from graph_runtime.backends.local.inference import Cancelled, run_inference

            try:
                run_inference(self.models, req, images, seeds, on_image, lambda: req.task_uuid in self._cancelled)
            except Cancelled:
                raise ApiError("taskCancelled", "the task was cancelled", http_status=499) from None

        await loop.run_in_executor(self._executor, work)

    async def _inference_images(self, req: InferenceRequest) -> Any:
        from graph_runtime.backends.local.inference import ResolvedImages

        seed = (await self._resolve_image(req.seed_image, "seedImage"))[0] if req.seed_image else None
        mask = (await self._resolve_image(req.mask_image, "maskImage"))[0] if req.mask_image else None
        guides = [
            (await self._resolve_image(cn.guide_image, f"controlNet[{i}].guideImage"))[0]
            for i, cn in enumerate(req.controlnets)
        ]
        return ResolvedImages(seed, mask, tuple(guides))

    async def _upload(self, task: JsonDict) -> JsonDict:
        ref = read_upload_image(task)
        image, existing = await self._resolve_image(ref, "image")
        image_uuid = existing or self._store_input(image)
        return {"taskType": "imageUpload", "taskUUID": task["taskUUID"], "imageUUID": image_uuid}

    async def _preprocess(self, task: JsonDict) -> JsonDict:
        req = read_preprocess(task, task["taskUUID"])
        if req.preprocessor not in preprocess.WEIGHT_FREE:
            raise ApiError(
                "preprocessorNeedsWeights",
                f"preProcessorType {req.preprocessor!r} needs model weights, which the local engine does not "
                f"have; it computes {', '.join(preprocess.WEIGHT_FREE)}. Use the cloud backend, or make the "
                "guide image elsewhere and upload it.",
                parameter="preProcessorType",
                http_status=400,
                extra={"allowedValues": list(preprocess.WEIGHT_FREE)},
            )
        image, input_uuid = await self._resolve_image(req.input_image, "inputImage")
        input_uuid = input_uuid or self._store_input(image)

        def work() -> JsonDict:
            src = image
            if req.width or req.height:
                w = req.width or round(src.width * req.height / src.height)  # type: ignore[operator]
                h = req.height or round(src.height * req.width / src.width)  # type: ignore[operator]
                src = src.resize((w, h), Image.LANCZOS)
            if req.preprocessor == "canny":
                guide = preprocess.canny(src, req.low_threshold, req.high_threshold)
            elif req.preprocessor == "tile":
                guide = preprocess.tile(src)
            else:
                guide = preprocess.shuffle(src)
            return self._store(guide, req.output, "guideImage")

        fields = await asyncio.to_thread(work)
        return {"taskType": req.task_type, "taskUUID": req.task_uuid, **fields, "inputImageUUID": input_uuid,
                **_cost(req.output)}  # fmt: skip

    # -- images --------------------------------------------------------------------------------------------
    def _store(self, image: Image.Image, output: OutputOptions, prefix: str) -> JsonDict:
        data = encode_image(image, output.output_format, output.quality)
        image_uuid = self.images.put(image, data, FORMAT_INFO[output.output_format][0])
        fields = output_fields(prefix, data, image_uuid, output.output_type, output.output_format)
        return {f"{prefix}UUID": image_uuid, **fields}

    def _store_input(self, image: Image.Image) -> str:
        return self.images.put(image, encode_image(image, "PNG", 95), "png")

    async def _resolve_image(self, ref: str, field: str) -> tuple[Image.Image, str | None]:
        """An image reference -> (image, its UUID here if it already has one)."""
        if is_uuid(ref):
            if (stored := self.images.get(ref)) is None:
                raise invalid(field, f"no image with UUID {ref} here (upload it with imageUpload first)")
            return stored.image, ref.lower()
        if ref.startswith((LOCAL_URL_SCHEME, "http://", "https://")):
            name = ref[len(LOCAL_URL_SCHEME) :] if ref.startswith(LOCAL_URL_SCHEME) else urlsplit(ref).path
            if (stored := self.images.by_name(name)) is not None:
                return stored.image, name.rsplit("/", 1)[-1].split(".")[0]
            if ref.startswith(LOCAL_URL_SCHEME):
                raise invalid(field, f"{ref} is not an image of this engine (or it expired)")
            if self._fetcher is None:
                raise invalid(
                    field, "URLs are fetched only by `loomware serve`; in-process give an image UUID or a data URI"
                )
            data = await self._fetcher.fetch(ref, field)
        elif "://" in ref[:32] or ref.startswith(("/", "~", ".")):
            raise invalid(field, f"file URLs and paths are refused; give {REF_FORMS}")
        elif (inline := decode_inline(ref, field)) is not None:
            data = inline
        else:
            raise invalid(field, f"is not {REF_FORMS}")
        return await asyncio.to_thread(decode_image, data, field), None


def _scoped(err: ApiError, task_type: Any, task_uuid: Any) -> ApiError:
    err.task_type = err.task_type or (task_type if isinstance(task_type, str) else None)
    err.task_uuid = err.task_uuid or (task_uuid if isinstance(task_uuid, str) else None)
    return err


def _with_status(err: ApiError) -> ApiError:
    err.extra.setdefault("status", "error")
    return err


def _cost(output: OutputOptions) -> JsonDict:
    return {"cost": 0.0} if output.include_cost else {}


def quiet_libraries() -> None:
    """Progress bars and load chatter belong to the caller's progress events, not to stderr."""
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    import huggingface_hub.utils

    huggingface_hub.utils.disable_progress_bars()  # "Writing model shards" when saving


def new_task_uuid() -> str:
    return str(uuid.uuid4())
