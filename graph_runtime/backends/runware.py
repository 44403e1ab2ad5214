"""The Runware cloud client over httpx: the public API or any Runware-compatible server (`loomware serve`).

Requests are a JSON array of tasks with a Bearer key. Responses are parsed leniently (`data`, `errors`, both, or
the older `error`), unknown fields are kept, and errors become typed exceptions (`AuthenticationError`,
`InsufficientBalanceError`, `ModelNotFoundError`, ...). Transient failures (408, 429, 5xx, timeouts, dropped
connections, malformed bodies) are retried by tenacity with exponential backoff and jitter inside a total time
budget, honouring Retry-After; 400/401/402/403 are never retried.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import os
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpcore  # noqa: F401 - httpx imports it on the first client (30+ ms); pay that at import, not in a run
import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from graph_runtime.backends.base import ApiError, Backend, BatchResult, JsonDict

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://api.runware.ai"
#: HTTP statuses worth another try; everything else in 4xx is the caller's mistake and final.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


# ---------------------------------------------------------------------------------------------- TLS


class _DeferredTrustContext(ssl.SSLContext):
    """A verifying client TLS context (as ssl.create_default_context makes) that loads its CA bundle on first use.

    Loading the bundle takes 30-100 ms. A client of a plain-http server (`loomware serve`, loopback) never needs
    it; an https client starts loading it in a thread when it is made, overlapping DNS and the TCP connect.
    Every handshake waits for the bundle, so nothing is ever verified against an empty trust store.
    """

    _cafile: str | None
    _capath: str | None
    _loaded: bool
    _lock: threading.Lock

    def __new__(cls, cafile: str | None = None, capath: str | None = None) -> _DeferredTrustContext:
        ctx = super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname by default
        ctx._cafile, ctx._capath, ctx._loaded, ctx._lock = cafile, capath, False, threading.Lock()
        if keylog := os.environ.get("SSLKEYLOGFILE"):  # as create_default_context does
            ctx.keylog_filename = keylog
        return ctx

    def load_trust(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self.load_verify_locations(cafile=self._cafile, capath=self._capath)  # releases the GIL
                self._loaded = True

    def prefetch(self) -> None:
        if not self._loaded:
            threading.Thread(target=self.load_trust, name="loomware-tls", daemon=True).start()

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_trust()
        return super().wrap_bio(*args, **kwargs)


@functools.cache
def _trust_context(cafile: str | None, capath: str | None) -> _DeferredTrustContext:
    """One context per CA source for the whole process: every client after the first gets it loaded."""
    return _DeferredTrustContext(cafile, capath)


def default_tls_context() -> _DeferredTrustContext:
    """The CA source httpx would use: SSL_CERT_FILE, else SSL_CERT_DIR, else certifi's bundle."""
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return _trust_context(cafile, None)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return _trust_context(None, capath)
    return _trust_context(certifi.where(), None)


# ---------------------------------------------------------------------------------------------- errors


class AuthenticationError(ApiError):
    """401/403: no key, a wrong key, or a key without permission. Never retried."""


class InsufficientBalanceError(ApiError):
    """402: the account cannot pay for the task. Never retried."""


class InvalidParameterError(ApiError):
    """400: a task field is missing or out of range; `parameter` names it."""


class ModelNotFoundError(InvalidParameterError):
    """A model AIR id the service does not know."""


class RateLimitError(ApiError):
    """429: too many requests right now; retried after Retry-After or a backoff."""


class ServerError(ApiError):
    """5xx: the service failed; retried."""


class RequestTimeoutError(ApiError):
    """408 or no answer within the timeout; retried."""


class NetworkError(ApiError):
    """The connection failed or dropped mid-response; retried."""


class InvalidResponseError(ApiError):
    """The body was not the JSON the API sends (truncated, HTML from a proxy, ...); retried."""


class DownloadError(ApiError):
    """A result image could not be downloaded (or was larger than allowed)."""


RETRYABLE: tuple[type[ApiError], ...] = (
    RateLimitError,
    ServerError,
    RequestTimeoutError,
    NetworkError,
    InvalidResponseError,
)
#: Errors that will fail every other task of the run too: the executor stops dispatching on them.
FATAL_STATUSES = frozenset({401, 402, 403})


def is_fatal(err: BaseException) -> bool:
    return isinstance(err, AuthenticationError | InsufficientBalanceError) or (
        isinstance(err, ApiError) and err.http_status in FATAL_STATUSES
    )


def error_class(status: int | None, code: str, parameter: str | None) -> type[ApiError]:
    low = code.lower()
    if status in (401, 403) or any(w in low for w in ("apikey", "unauthori", "forbidden", "authentication")):
        return AuthenticationError
    if status == 402 or any(w in low for w in ("balance", "credit", "payment")):
        return InsufficientBalanceError
    model_param = (parameter or "").lower().endswith("model")
    if ("model" in low or model_param) and any(w in low for w in ("notfound", "unknown", "invalidmodel", "missing")):
        return ModelNotFoundError
    if status == 404 and model_param:
        return ModelNotFoundError
    if status == 429:
        return RateLimitError
    if status == 408:
        return RequestTimeoutError
    if status is not None and status >= 500:
        return ServerError
    if status == 400 or low.startswith("invalid") or low.startswith("missing"):
        return InvalidParameterError
    return ApiError


def typed_error(err: ApiError) -> ApiError:
    """The same error as its most specific class (an AuthenticationError for a 401, ...)."""
    cls = error_class(err.http_status, err.code, err.parameter)
    if type(err) is cls or isinstance(err, cls):
        return err
    return cls(err.code, err.message, err.parameter, err.task_type, err.task_uuid, err.http_status, dict(err.extra))


def error_from_api(obj: Any, http_status: int | None) -> ApiError:
    if not isinstance(obj, dict):
        obj = {"code": "error", "message": str(obj)}
    return typed_error(ApiError.from_api(obj, http_status))


def parse_body(body: Any, http_status: int) -> BatchResult:
    """`{"data": [...]}`, `{"errors": [...]}`, both, or the older `{"error": ...}`; unknown fields kept."""
    if not isinstance(body, dict):
        raise InvalidResponseError("invalidResponse", "the response is not a JSON object", http_status=http_status)
    data = body.get("data") or []
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InvalidResponseError("invalidResponse", "`data` is not a list", http_status=http_status)
    raw_errors = body.get("errors")
    if raw_errors is None and "error" in body:
        raw_errors = body["error"]
    if raw_errors is None:
        raw_errors = []
    if not isinstance(raw_errors, list):
        raw_errors = [raw_errors if isinstance(raw_errors, dict) else {"code": "error", "message": str(raw_errors)}]
    items = [item for item in data if isinstance(item, dict)]
    return BatchResult(items=items, errors=[error_from_api(e, http_status) for e in raw_errors])


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


# ---------------------------------------------------------------------------------------------- retries


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    initial: float = 1.0  # first backoff (seconds), doubled each time, plus jitter
    max_wait: float = 30.0  # no single wait longer than this, Retry-After included
    jitter: float = 1.0
    budget: float = 180.0  # total seconds spent on one call before giving up
    connect_timeout: float = 10.0
    read_timeout: float = 300.0  # a sync imageInference answers only when the images are ready


@dataclass(frozen=True)
class RetryNote:
    """One retry, as the client's `on_retry` callback and `retry_log` see it."""

    attempt: int
    wait: float
    error: ApiError


class _Wait:
    """Retry-After when the server gives one, else exponential backoff with jitter (both capped)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._backoff = wait_exponential_jitter(multiplier=policy.initial, max=policy.max_wait, jitter=policy.jitter)
        self._cap = policy.max_wait

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return min(float(after), self._cap)
        return float(self._backoff(state))


# ---------------------------------------------------------------------------------------------- client


class RunwareBackend(Backend):
    """The Runware REST API at `endpoint` (default the public API). Safe to share across concurrent calls."""

    def __init__(
        self,
        api_key: str | None,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        retry: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        on_retry: Callable[[RetryNote], None] | None = None,
        max_connections: int = 16,
    ) -> None:
        self._key = api_key
        self.endpoint = endpoint.rstrip("/")
        self.name = "cloud" if self.endpoint == DEFAULT_ENDPOINT else self.endpoint
        self.policy = retry or RetryPolicy()
        timeout = httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout)
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        if client is None:
            tls = default_tls_context()
            if self.endpoint.startswith("https://"):
                tls.prefetch()  # the first request needs it: load it while DNS and the connect run
            client = httpx.AsyncClient(timeout=timeout, limits=limits, verify=tls)
            self._own_client = True
        else:
            self._own_client = False
        self._client = client
        self._on_retry = on_retry
        self.retry_log: list[RetryNote] = []
        self.requests_sent = 0

    def __repr__(self) -> str:  # never shows the key
        return f"RunwareBackend({self.endpoint!r})"

    @property
    def url(self) -> str:
        return f"{self.endpoint}/v1"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    def _retrying(self) -> AsyncRetrying:
        p = self.policy
        return AsyncRetrying(
            retry=retry_if_exception(lambda e: isinstance(e, RETRYABLE)),
            stop=stop_after_attempt(p.attempts) | stop_before_delay(p.budget),
            wait=_Wait(p),
            before_sleep=self._note_retry,
            reraise=True,
        )

    def _note_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.upcoming_sleep
        if isinstance(exc, ApiError):
            note = RetryNote(state.attempt_number, wait, exc)
            self.retry_log.append(note)
            log.info("retrying after %s (attempt %d, waiting %.2f s)", exc, state.attempt_number, wait)
            if self._on_retry is not None:
                self._on_retry(note)

    # -- the API -------------------------------------------------------------------------------------------
    async def submit(self, tasks: list[JsonDict]) -> BatchResult:
        return await self._call(tasks)

    async def poll(self, task_uuids: list[str]) -> BatchResult:
        return await self._call([{"taskType": "getResponse", "taskUUID": u} for u in task_uuids])

    async def _call(self, tasks: list[JsonDict]) -> BatchResult:
        body = json.dumps(tasks, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        async for attempt in self._retrying():
            with attempt:
                return await self._post_once(body)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity either returns or raises

    async def _post_once(self, body: bytes) -> BatchResult:
        self.requests_sent += 1
        try:
            response = await self._client.post(self.url, content=body, headers=self._headers())
        except httpx.TimeoutException as exc:
            raise RequestTimeoutError("timeout", f"no answer from {self.endpoint} in time ({exc!r})") from exc
        except httpx.TransportError as exc:
            raise NetworkError("networkError", f"connection to {self.endpoint} failed: {exc!r}") from exc
        status = response.status_code
        try:
            parsed: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = None
        if status in RETRY_STATUSES:
            err = _status_error(status, parsed, response)
            err.retry_after = _retry_after(response)  # type: ignore[attr-defined]
            raise err
        if parsed is None:
            if status >= 400:
                raise _status_error(status, None, response)
            snippet = response.text[:120].replace("\n", " ")
            raise InvalidResponseError("invalidResponse", f"the answer is not JSON: {snippet!r}", http_status=status)
        result = parse_body(parsed, status)
        if status >= 400 and not result.errors:
            raise _status_error(status, parsed, response)
        return result

    async def fetch_image(self, url: str, max_bytes: int) -> bytes:
        """Download a result image, streamed and capped at `max_bytes`, retried like API calls.

        The key is sent only to the endpoint's own origin (a self-hosted server's image URLs), never elsewhere.
        """
        if not url.startswith(("http://", "https://")):
            raise DownloadError("downloadFailed", f"cannot download {url[:80]!r}: not an http(s) URL")
        same_origin = urlsplit(url)[:2] == urlsplit(self.endpoint)[:2]
        headers = {"Authorization": f"Bearer {self._key}"} if same_origin and self._key else {}
        async for attempt in self._retrying():
            with attempt:
                return await self._fetch_once(url, max_bytes, headers)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _fetch_once(self, url: str, max_bytes: int, headers: dict[str, str]) -> bytes:
        try:
            async with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code in RETRY_STATUSES:
                    err = _status_error(response.status_code, None, response, what=f"downloading {url}")
                    err.retry_after = _retry_after(response)  # type: ignore[attr-defined]
                    raise err
                if response.status_code >= 400:
                    raise DownloadError(
                        "downloadFailed",
                        f"downloading {url} failed: HTTP {response.status_code}",
                        http_status=response.status_code,
                    )
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise DownloadError("imageTooLarge", f"{url} is {declared} bytes; the limit is {max_bytes}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadError("imageTooLarge", f"{url} is larger than the limit of {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise RequestTimeoutError("timeout", f"downloading {url} timed out") from exc
        except httpx.TransportError as exc:
            raise NetworkError("networkError", f"downloading {url} failed: {exc!r}") from exc

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()


def _status_error(status: int, parsed: Any, response: httpx.Response, what: str = "the request") -> ApiError:
    """The error a non-2xx answer stands for: the body's first error when it has one, else the status."""
    if isinstance(parsed, dict):
        try:
            result = parse_body(parsed, status)
        except InvalidResponseError:
            result = BatchResult()
        if result.errors:
            first = result.errors[0]
            cls = error_class(status, first.code, first.parameter)
            return cls(first.code, first.message, first.parameter, first.task_type, None, status, dict(first.extra))
    reason = response.reason_phrase or "error"
    cls = error_class(status, "", None)
    return cls(f"http{status}", f"{what} failed: HTTP {status} {reason}", http_status=status)
