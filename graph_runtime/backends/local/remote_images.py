"""Fetching http(s) image references with timeouts and a size cap (the server's job, never file:// or paths)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from graph_runtime.backends.base import ApiError

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class RemoteImageFetcher:
    """Downloads image URLs; one shared connection pool, closed with the engine."""

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES, timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> None:
        self.max_bytes = max_bytes
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=True, max_redirects=3)

    async def fetch(self, url: str, field: str) -> bytes:
        if urlsplit(url).scheme not in ("http", "https"):
            raise _error(field, "only http(s) URLs are fetched")
        try:
            async with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise _error(field, f"fetching the image URL answered HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise _error(field, f"the image at the URL is larger than {self.max_bytes} bytes")
                chunks: list[bytes] = []
                total = 0
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise _error(field, f"the image at the URL is larger than {self.max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise _error(field, f"the image URL could not be fetched ({exc.__class__.__name__})") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def _error(field: str, message: str) -> ApiError:
    return ApiError("invalidParameter", f"{field}: {message}", parameter=field, http_status=400)
