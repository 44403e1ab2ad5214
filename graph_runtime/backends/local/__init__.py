"""The local engine: diffusers on this machine, a model catalogue, and a Runware-compatible HTTP server.

Importing this package (or its catalogue) does not import torch; `LocalBackend` loads it on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graph_runtime.backends.local.catalog import Catalog, CatalogError, MissingModel, ModelEntry, default_models_dir

if TYPE_CHECKING:
    from graph_runtime.backends.local.backend import LocalBackend

__all__ = ["Catalog", "CatalogError", "LocalBackend", "MissingModel", "ModelEntry", "default_models_dir"]


def __getattr__(name: str) -> Any:
    if name == "LocalBackend":
        from graph_runtime.backends.local.backend import LocalBackend

        return LocalBackend
    raise AttributeError(name)
