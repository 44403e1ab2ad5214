"""The node library: one small module per node family, all registered in `REGISTRY`.

To add a node type, declare a `NodeType` in a module here, list it in that module's NODE_TYPES and add the
module to `_FAMILIES` below; registration checks the declaration when Loomware starts.
"""

from __future__ import annotations

from graph_runtime.registry import Registry
from nodes import adapters, controlnet, images, inference, models, prompt, refiner

_FAMILIES = (prompt, models, adapters, refiner, images, controlnet, inference)

REGISTRY = Registry()
for _family in _FAMILIES:
    REGISTRY.register_all(_family.NODE_TYPES)
