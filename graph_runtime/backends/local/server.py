"""A Runware-compatible HTTP server over a LocalBackend: `POST /v1` and the images it generated.

    POST /v1                  a JSON array of tasks -> {"data": [...]} / {"errors": [...]} / both
    GET  /images/<uuid>.<ext> an uploaded or generated image (URL outputs point here)
    GET  /health              {"status": "ok"}

Statuses follow the API: 400 for bad parameters, 401 without a valid key (when one is configured), 404 for an
unknown image or async task, 413 for an oversized body. Inference is queued one at a time per device by the
backend; any number of HTTP clients may wait. The API key is compared in constant time and never logged.
"""

from __future__ import annotations

import contextlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graph_runtime.backends.base import BatchResult
from graph_runtime.backends.local.backend import LocalBackend
from graph_runtime.backends.local.images import EXT_MIME, LOCAL_URL_SCHEME

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
URL_FIELDS = ("imageURL", "guideImageURL")


class _TooLarge(Exception):
    pass


def _error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"errors": [{"code": code, "message": message, **extra}]}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _key_ok(request: Request, tasks: list[Any], api_key: str) -> bool:
    header = request.headers.get("authorization", "")
    offered = header[7:].strip() if header.lower().startswith("bearer ") else None
    for task in tasks:
        if isinstance(task, dict) and task.get("taskType") == "authentication":
            offered = offered or task.get("apiKey")
    if not isinstance(offered, str):
        return False
    return hmac.compare_digest(offered.encode("utf-8"), api_key.encode("utf-8"))


def _public_urls(result: BatchResult, base_url: str) -> None:
    """In-process URLs (loomware-local://<uuid>.<ext>) become this server's /images/ URLs."""
    for item in result.items:
        for key in URL_FIELDS:
            value = item.get(key)
            if isinstance(value, str) and value.startswith(LOCAL_URL_SCHEME):
                item[key] = f"{base_url}images/{value[len(LOCAL_URL_SCHEME) :]}"


def _status(result: BatchResult) -> int:
    """200 when anything succeeded; otherwise the first error's status (the API's 400 for bad parameters)."""
    if result.items or not result.errors:
        return 200
    return next((e.http_status for e in result.errors if e.http_status and e.http_status < 500), None) or (
        result.errors[0].http_status or 400
    )


def create_app(
    backend: LocalBackend, *, api_key: str | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> Starlette:
    async def tasks_endpoint(request: Request) -> Response:
        try:
            body = await _read_body(request, max_body_bytes)
        except _TooLarge:
            return _error_response(413, "payloadTooLarge", f"the request body is over {max_body_bytes} bytes")
        try:
            tasks = json.loads(body)
        except ValueError:
            return _error_response(400, "invalidJson", "the request body is not valid JSON")
        if isinstance(tasks, dict):
            tasks = [tasks]
        if not isinstance(tasks, list):
            return _error_response(400, "invalidRequest", "the request body must be a JSON array of tasks")
        if api_key is not None and not _key_ok(request, tasks, api_key):
            return _error_response(
                401, "invalidApiKey", "missing or invalid API key (send Authorization: Bearer <key>)"
            )
        tasks = [t for t in tasks if not (isinstance(t, dict) and t.get("taskType") == "authentication")]
        result = await backend.submit(tasks)
        _public_urls(result, str(request.base_url))
        return JSONResponse(result.to_api(), status_code=_status(result))

    async def image_endpoint(request: Request) -> Response:
        name = request.path_params["name"]
        stored = backend.images.by_name(name)
        if stored is None:
            return _error_response(404, "imageNotFound", f"no image {name} here (it may have expired)")
        return Response(stored.data, media_type=EXT_MIME[stored.ext], headers={"Cache-Control": "max-age=3600"})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "engine": backend.name})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await backend.aclose()

    return Starlette(
        routes=[
            Route("/v1", tasks_endpoint, methods=["POST"]),
            Route("/images/{name}", image_endpoint, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
