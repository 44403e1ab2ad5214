"""Backends by name: "cloud" (the public Runware API), "local" (the in-process diffusers engine) or the URL of a
Runware-compatible server. The local engine is imported only when asked for, so a cloud run never loads torch."""

from __future__ import annotations

from typing import Any

from graph_runtime.backends.base import Backend
from graph_runtime.backends.runware import DEFAULT_ENDPOINT, RetryPolicy, RunwareBackend

BACKEND_CHOICES = ("cloud", "local", "http(s)://HOST[:PORT]")


class BackendSpecError(ValueError):
    """An unknown backend name, or one that cannot be used as configured."""


class MissingApiKeyError(BackendSpecError):
    def __init__(self) -> None:
        from graph_runtime.config import api_key_help

        super().__init__(f"no Runware API key is configured: {api_key_help()}")


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def make_backend(
    spec: str,
    *,
    api_key: str | None,
    retry: RetryPolicy | None = None,
    local_options: dict[str, Any] | None = None,
) -> Backend:
    """The backend `spec` names. "cloud" needs a key; a URL takes one if given (self-hosted servers may not);
    "local" takes keyword options for `LocalBackend` (catalog, device, dtype, ...)."""
    if spec == "cloud":
        if not api_key:
            raise MissingApiKeyError()
        return RunwareBackend(api_key, DEFAULT_ENDPOINT, retry=retry)
    if is_url(spec):
        return RunwareBackend(api_key, spec, retry=retry)
    if spec == "local":
        try:
            from graph_runtime.backends.local.backend import LocalBackend
        except ImportError as exc:
            raise BackendSpecError(
                f"the local engine is not installed ({exc.name or exc}); install the extra with "
                "`pip install 'loomware[local]'`, or run with --backend cloud"
            ) from exc
        return LocalBackend(**(local_options or {}))
    raise BackendSpecError(f"unknown backend {spec!r}; use one of {', '.join(BACKEND_CHOICES)}")
