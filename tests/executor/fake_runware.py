"""A small Runware-compatible HTTP server for tests and benchmarks: a starlette app served by uvicorn on loopback.

It validates what a client must send (a JSON array, a taskUUID on every task, the Bearer key), answers with
well-formed results (real tiny images as URLs it serves, base64 or data URIs), and injects faults on demand:
429 bursts with Retry-After, 500s, slow answers, connections dropped mid-response, malformed JSON, responses
with both `data` and `errors`, and failing image downloads. It records every request so tests count them.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import re
import threading
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.loopback import ServerThread

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
FORMATS = {
    "JPG": ("JPEG", "jpg", "image/jpeg"),
    "PNG": ("PNG", "png", "image/png"),
    "WEBP": ("WEBP", "webp", "image/webp"),
}
MISSING_MODEL = "civitai:404@404"  # the server knows no such model
FAIL_WORD = "FAIL"  # a positivePrompt containing it makes that task fail (others in the request succeed)
COST = 0.0025


def tiny_image(seed: int, fmt: str = "PNG", size: int = 8) -> bytes:
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buf = io.BytesIO()
    img.save(buf, format=FORMATS[fmt][0])
    return buf.getvalue()


def _ext_format(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    return "webp"


@dataclass
class Fault:
    kind: str  # "429" | "500" | "503" | "slow" | "drop" | "malformed"
    retry_after: str | None = None
    delay: float = 2.0


@dataclass
class _Job:
    task: dict[str, Any]
    items: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    polls_left: int


@dataclass
class FakeRunware:
    api_key: str = "test-key-0123456789"
    latency: float = 0.0  # seconds before each /v1 answer (requests are handled concurrently)
    async_polls: int = 2  # getResponse answers "processing" this many times first
    require_key: bool = True
    url: str = ""
    images: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    requests: list[list[dict[str, Any]]] = field(default_factory=list)  # every accepted /v1 body
    attempts: int = 0  # every POST /v1, faults included
    faults: deque[Fault] = field(default_factory=deque)
    download_faults: deque[str] = field(default_factory=deque)  # "500" | "404" | "drop"
    downloads: int = 0
    jobs: dict[str, _Job] = field(default_factory=dict)
    auth_headers: list[str | None] = field(default_factory=list)
    download_auth: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.images.clear()
            self.requests.clear()
            self.faults.clear()
            self.download_faults.clear()
            self.jobs.clear()
            self.auth_headers.clear()
            self.download_auth.clear()
            self.attempts = 0
            self.downloads = 0
            self.latency = 0.0
            self.async_polls = 2
            self.require_key = True

    # -- counters for tests ----------------------------------------------------------------------------------
    @property
    def tasks(self) -> list[dict[str, Any]]:
        return [t for body in self.requests for t in body]

    def task_counts(self) -> Counter[str]:
        return Counter(t.get("taskType") for t in self.tasks if t.get("taskType") != "getResponse")

    def work_tasks(self) -> list[dict[str, Any]]:
        return [t for t in self.tasks if t.get("taskType") != "getResponse"]

    # -- the ASGI app -----------------------------------------------------------------------------------------
    def app(self) -> Any:
        inner = Starlette(
            routes=[Route("/v1", self._v1, methods=["POST"]), Route("/images/{name}", self._image, methods=["GET"])]
        )

        async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and await self._maybe_drop(scope, receive, send):
                return
            await inner(scope, receive, send)

        return asgi

    async def _maybe_drop(self, scope: dict[str, Any], receive: Any, send: Any) -> bool:
        """Close the connection mid-response (a promised body that never arrives)."""
        path = scope["path"]
        with self.lock:
            if path == "/v1" and self.faults and self.faults[0].kind == "drop":
                self.faults.popleft()
                self.attempts += 1
            elif path.startswith("/images/") and self.download_faults and self.download_faults[0] == "drop":
                self.download_faults.popleft()
                self.downloads += 1
            else:
                return False
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b'{"data": [{"taskT', "more_body": True})
        raise ConnectionAbortedError("fault injection: connection dropped mid-response")

    async def _v1(self, request: Request) -> Response:
        with self.lock:
            self.attempts += 1
            fault = self.faults.popleft() if self.faults else None
        if fault is not None:
            if fault.kind in ("429", "500", "503"):
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                body = {"errors": [{"code": f"http{fault.kind}", "message": "injected fault"}]}
                return JSONResponse(body, status_code=int(fault.kind), headers=headers)
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            elif fault.kind == "malformed":
                return Response(b'{"data": [ {"taskType": oops', media_type="application/json")
        if self.latency:
            await asyncio.sleep(self.latency)
        auth = request.headers.get("authorization")
        self.auth_headers.append(auth)
        if self.require_key and auth != f"Bearer {self.api_key}":
            return JSONResponse({"errors": [{"code": "invalidApiKey", "message": "Invalid API key."}]}, 401)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"errors": [{"code": "invalidJson", "message": "the body is not JSON"}]}, 400)
        if not isinstance(body, list) or not body:
            return JSONResponse({"errors": [{"code": "invalidRequest", "message": "the body must be an array"}]}, 400)
        seen: set[str] = set()
        for task in body:
            task_uuid = task.get("taskUUID") if isinstance(task, dict) else None
            if not isinstance(task_uuid, str) or not UUID_RE.match(task_uuid) or task_uuid in seen:
                err = {"code": "invalidTaskUUID", "message": "every task needs a unique UUID v4 taskUUID",
                       "parameter": "taskUUID"}  # fmt: skip
                return JSONResponse({"errors": [err]}, 400)
            if not isinstance(task.get("taskType"), str):
                return JSONResponse({"errors": [{"code": "missingTaskType", "taskUUID": task_uuid,
                                                 "message": "taskType is required"}]}, 400)  # fmt: skip
            seen.add(task_uuid)
        with self.lock:
            self.requests.append(body)
        base = str(request.base_url).rstrip("/")
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for task in body:
            items, errs = self._handle(task, base)
            data += items
            errors += errs
        out: dict[str, Any] = {}
        if data or not errors:
            out["data"] = data
        if errors:
            out["errors"] = errors
        return JSONResponse(out, status_code=200 if data or not errors else 400)

    # -- tasks ---------------------------------------------------------------------------------------------
    def _handle(self, task: dict[str, Any], base: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        kind, tid = task["taskType"], task["taskUUID"]
        if kind == "getResponse":
            return self._get_response(tid)
        handler = {
            "imageUpload": self._upload,
            "imageInference": self._inference,
            "imageControlNetPreProcess": self._preprocess,
        }.get(kind)
        if handler is None:
            return [], [_err("unsupportedTaskType", f"unknown taskType {kind}", tid, kind, "taskType")]
        try:
            items = handler(task, base)
        except _TaskError as exc:
            return [], [_err(exc.code, exc.message, tid, kind, exc.parameter)]
        if task.get("deliveryMethod") == "async":
            with self.lock:
                self.jobs[tid] = _Job(task, items, [], self.async_polls)
            return [{"taskType": kind, "taskUUID": tid, "status": "processing"}], []
        return items, []

    def _get_response(self, tid: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        job = self.jobs.get(tid)
        if job is None:
            return [], [_err("taskNotFound", f"no async task {tid}", tid, "getResponse", "taskUUID")]
        if job.polls_left > 0:
            job.polls_left -= 1
            progress = 100 * (self.async_polls - job.polls_left) // (self.async_polls + 1)
            return [{"taskType": job.task["taskType"], "taskUUID": tid, "status": "processing",
                     "progress": progress}], []  # fmt: skip
        return [{**item, "status": "success"} for item in job.items], []

    def _image_ref(self, task: dict[str, Any], name: str) -> None:
        value = task.get(name)
        if value is None:
            return
        if isinstance(value, str) and (value.startswith(("data:", "http://", "https://")) or value in self.images):
            return
        raise _TaskError("invalidImage", f"{name}: unknown image {str(value)[:40]!r}", name)

    def _store(self, data: bytes) -> str:
        image_uuid = str(uuid.uuid4())
        with self.lock:
            self.images[image_uuid] = (data, _ext_format(data))
        return image_uuid

    def _outputs(self, task: dict[str, Any], prefix: str, data: bytes, image_uuid: str, base: str) -> dict[str, Any]:
        fmt = task.get("outputFormat", "JPG")
        mime = FORMATS[fmt][2]
        kind = task.get("outputType", "URL")
        if kind == "base64Data":
            return {f"{prefix}Base64Data": base64.b64encode(data).decode()}
        if kind == "dataURI":
            return {f"{prefix}DataURI": f"data:{mime};base64," + base64.b64encode(data).decode()}
        return {f"{prefix}URL": f"{base}/images/{image_uuid}.{FORMATS[fmt][1]}"}

    def _upload(self, task: dict[str, Any], base: str) -> list[dict[str, Any]]:
        image = task.get("image")
        if not isinstance(image, str):
            raise _TaskError("missingImage", "image is required", "image")
        text = image.split(",", 1)[1] if image.startswith("data:") else image
        try:
            data = base64.b64decode(text, validate=True)
        except ValueError:
            raise _TaskError("invalidImage", "image is not base64 data", "image") from None
        return [{"taskType": "imageUpload", "taskUUID": task["taskUUID"], "imageUUID": self._store(data)}]

    def _inference(self, task: dict[str, Any], base: str) -> list[dict[str, Any]]:
        if task.get("model") == MISSING_MODEL:
            raise _TaskError("modelNotFound", f"model {MISSING_MODEL} does not exist", "model")
        prompt = task.get("positivePrompt")
        if not isinstance(prompt, str) or len(prompt) < 2:
            raise _TaskError("invalidPositivePrompt", "positivePrompt: 2-3000 characters", "positivePrompt")
        if FAIL_WORD in prompt:
            raise _TaskError("inferenceFailed", "the worker crashed on this prompt", None)
        for name in ("seedImage", "maskImage"):
            self._image_ref(task, name)
        for i, cn in enumerate(task.get("controlNet") or []):
            self._image_ref({f"controlNet[{i}].guideImage": cn.get("guideImage")}, f"controlNet[{i}].guideImage")
        seed = task.get("seed") or random.randint(1, 2**32 - 1)
        fmt = task.get("outputFormat", "JPG")
        items = []
        for i in range(int(task.get("numberResults", 1))):
            data = tiny_image(seed + i, fmt)
            image_uuid = self._store(data)
            item = {"taskType": "imageInference", "taskUUID": task["taskUUID"], "imageUUID": image_uuid,
                    "seed": seed + i, "NSFWContent": False, "someNewField": {"kept": True},
                    **self._outputs(task, "image", data, image_uuid, base)}  # fmt: skip
            if task.get("includeCost"):
                item["cost"] = COST
            items.append(item)
        return items

    def _preprocess(self, task: dict[str, Any], base: str) -> list[dict[str, Any]]:
        self._image_ref(task, "inputImage")
        seed = abs(hash(str(task.get("inputImage")))) % 10_000
        data = tiny_image(seed, task.get("outputFormat", "JPG"))
        guide = self._store(data)
        item = {"taskType": task["taskType"], "taskUUID": task["taskUUID"], "guideImageUUID": guide,
                "inputImageUUID": task.get("inputImage"),
                **self._outputs(task, "guideImage", data, guide, base)}  # fmt: skip
        if task.get("includeCost"):
            item["cost"] = COST
        return [item]

    # -- images ------------------------------------------------------------------------------------------
    async def _image(self, request: Request) -> Response:
        with self.lock:
            self.downloads += 1
            self.download_auth.append(request.headers.get("authorization"))
            fault = self.download_faults.popleft() if self.download_faults else None
        if fault in ("500", "503"):
            return Response(b"boom", status_code=int(fault))
        image_uuid = request.path_params["name"].split(".")[0]
        stored = self.images.get(image_uuid)
        if fault == "404" or stored is None:
            return Response(b"not found", status_code=404)
        data, ext = stored
        return Response(data, media_type=f"image/{'jpeg' if ext == 'jpg' else ext}")


class _TaskError(Exception):
    def __init__(self, code: str, message: str, parameter: str | None) -> None:
        super().__init__(message)
        self.code, self.message, self.parameter = code, message, parameter


def _err(code: str, message: str, tid: str, kind: str, parameter: str | None) -> dict[str, Any]:
    out = {"code": code, "message": message, "taskUUID": tid, "taskType": kind,
           "documentation": "https://runware.ai/docs", "allowedValues": None}  # fmt: skip
    if parameter:
        out["parameter"] = parameter
    return out


def serve(fake: FakeRunware) -> ServerThread:
    server = ServerThread(fake.app()).start()
    fake.url = server.url
    return server


def main() -> None:
    """`python fake_runware.py [LATENCY]`: serve in this process (benchmarks run it apart from the client, so
    the two do not share one interpreter lock) and print the URL; stop with SIGTERM or Ctrl-C."""
    import sys

    fake = FakeRunware(latency=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
    server = ServerThread(fake.app())
    print(server.url, flush=True)
    server.run()


if __name__ == "__main__":
    main()
