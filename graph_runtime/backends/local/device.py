"""Choosing the device, dtype and memory budget: automatic (CUDA, then MPS, then CPU), overridable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

DEVICE_ENV = "LOOMWARE_DEVICE"
DTYPE_ENV = "LOOMWARE_DTYPE"
DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # "cuda", "cuda:1", "mps", "cpu"
    dtype: str
    memory_budget_bytes: int

    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)


def choose_device(
    device: str | None = None, dtype: str | None = None, memory_budget_bytes: int | None = None
) -> DeviceChoice:
    import torch

    device = device or os.environ.get(DEVICE_ENV) or _auto_device(torch)
    kind = device.split(":")[0]
    if kind not in ("cuda", "mps", "cpu"):
        raise ValueError(f"device {device!r} is unknown; one of: cuda, cuda:<n>, mps, cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch sees no CUDA GPU")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' was asked for but torch sees no Apple GPU")
    # Half precision halves memory and time on GPUs; CPUs compute it slowly or not at all.
    dtype = dtype or os.environ.get(DTYPE_ENV) or ("float32" if kind == "cpu" else "float16")
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} is unknown; one of: {', '.join(DTYPES)}")
    return DeviceChoice(device, dtype, memory_budget_bytes or _default_budget(torch, device))


def _auto_device(torch: Any) -> str:
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _default_budget(torch: Any, device: str) -> int:
    """Models kept loaded: 80 % of GPU memory, or half the machine's RAM for CPU and MPS (shared memory)."""
    if device.startswith("cuda"):
        return int(torch.cuda.get_device_properties(torch.device(device)).total_memory * 0.8)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 16 << 30  # platforms without sysconf (Windows): assume 16 GiB
    return total // 2
