"""Loaded models, kept between tasks and dropped least-recently-used beyond a memory budget.

A checkpoint stays loaded with its LoRAs and embeddings managed in place: changing which LoRAs a task uses, or
their weights, loads or unloads adapters by name and never reloads the base model. Runs only on the engine's
worker thread (one per device), so it needs no locks.
"""

from __future__ import annotations

import gc
import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graph_runtime.api_facts import ARCHITECTURES
from graph_runtime.backends.base import ApiError
from graph_runtime.backends.local.catalog import Catalog, CatalogError, ModelEntry, ModelNotFoundError
from graph_runtime.backends.local.device import DeviceChoice
from graph_runtime.backends.local.schedulers import DEFAULT, make_scheduler

_shim_applied = False


def apply_clip_skip_shim() -> None:
    """diffusers reads `text_encoder.text_model.final_layer_norm`; transformers 5's CLIPTextModel *is* it."""
    global _shim_applied
    if _shim_applied:
        return
    import transformers
    from transformers import CLIPTextModel

    if int(transformers.__version__.split(".")[0]) >= 5 and not hasattr(CLIPTextModel, "text_model"):
        CLIPTextModel.text_model = property(lambda self: self)  # type: ignore[attr-defined]
    _shim_applied = True


def family(architecture: str) -> str:
    """Models of one family share LoRAs, embeddings, ControlNets and VAEs (SDXL Lightning takes SDXL LoRAs)."""
    for fam in ("sdxl", "sd1.5"):
        if architecture.startswith(fam):
            return fam
    return architecture


def model_error(exc: CatalogError, parameter: str) -> ApiError:
    code = "modelNotFound" if isinstance(exc, ModelNotFoundError) else "invalidModel"
    return ApiError(code, f"{parameter}: {exc}", parameter=parameter, http_status=400)


def module_bytes(*modules: Any) -> int:
    total = 0
    for module in modules:
        if module is None or not hasattr(module, "parameters"):
            continue
        total += sum(t.numel() * t.element_size() for t in module.parameters())
        total += sum(t.numel() * t.element_size() for t in module.buffers())
    return total


@dataclass
class LoadedCheckpoint:
    entry: ModelEntry
    pipe: Any  # the pipeline as loaded (its class says text-to-image or refiner)
    default_scheduler_config: Any
    loras: dict[str, str] = field(default_factory=dict)  # AIR -> adapter name
    embeddings: dict[str, tuple[float, dict[int, list[str]]]] = field(default_factory=dict)
    variants: dict[tuple[str, bool], Any] = field(default_factory=dict)
    schedulers: dict[str, Any] = field(default_factory=dict)

    @property
    def is_xl(self) -> bool:
        return "XL" in type(self.pipe).__name__

    @property
    def is_refiner(self) -> bool:
        """SDXL refiners have only the second text encoder and continue someone else's latents."""
        return self.is_xl and getattr(self.pipe, "text_encoder", None) is None

    def scheduler(self, name: str | None) -> Any:
        name = name or DEFAULT
        if name not in self.schedulers:
            self.schedulers[name] = (
                type(self.pipe.scheduler).from_config(self.default_scheduler_config)
                if name == DEFAULT
                else make_scheduler(name, self.default_scheduler_config)
            )
        return self.schedulers[name]

    def text_pairs(self) -> list[tuple[Any, Any]]:
        """(tokenizer, text encoder) pairs present: one for SD 1.5, two for SDXL, one for a refiner."""
        pairs = [
            (getattr(self.pipe, tok, None), getattr(self.pipe, enc, None))
            for tok, enc in (("tokenizer", "text_encoder"), ("tokenizer_2", "text_encoder_2"))
        ]
        return [(t, e) for t, e in pairs if t is not None and e is not None]


@dataclass
class _Slot:
    value: Any
    nbytes: int


class ModelCache:
    """Checkpoints, ControlNets and VAEs by (kind, AIR), within `device.memory_budget_bytes`."""

    def __init__(self, catalog: Catalog, device: DeviceChoice) -> None:
        self.catalog = catalog
        self.device = device
        self._slots: OrderedDict[tuple[str, str], _Slot] = OrderedDict()
        self._pinned: set[tuple[str, str]] = set()
        #: How often each model was read from disk (tests and the bench check reuse with it).
        self.load_counts: Counter[str] = Counter()
        self.adapter_loads: Counter[str] = Counter()

    def begin_task(self) -> None:
        """Models used by the task about to run may not be evicted while it loads the rest."""
        self._pinned.clear()

    def loaded(self) -> list[tuple[str, str]]:
        return list(self._slots)

    def _get(self, kind: str, air: str, loader: Callable[[ModelEntry, Any], Any], sizer: Callable[[Any], int]) -> Any:
        key = (kind, air)
        self._pinned.add(key)
        if key in self._slots:
            self._slots.move_to_end(key)
            return self._slots[key].value
        entry, path = self.catalog.resolve(air, kind)
        value = loader(entry, path)
        self.load_counts[air] += 1
        nbytes = sizer(value)
        self._evict(nbytes)
        self._slots[key] = _Slot(value, nbytes)
        return value

    def _evict(self, incoming: int) -> None:
        used = sum(s.nbytes for s in self._slots.values())
        victims = [k for k in self._slots if k not in self._pinned]
        freed = False
        while used + incoming > self.device.memory_budget_bytes and victims:
            key = victims.pop(0)
            used -= self._slots.pop(key).nbytes
            freed = True
        if freed:
            gc.collect()
            if self.device.device.startswith("cuda"):
                import torch

                torch.cuda.empty_cache()

    def clear(self) -> None:
        self._slots.clear()
        gc.collect()

    # -- loaders -------------------------------------------------------------------------------------------
    def checkpoint(self, air: str) -> LoadedCheckpoint:
        return self._get("checkpoint", air, self._load_checkpoint, lambda c: module_bytes(*c.pipe.components.values()))

    def controlnet(self, air: str) -> Any:
        return self._get("controlnet", air, self._load_diffusers_model("ControlNetModel"), module_bytes)

    def vae(self, air: str) -> Any:
        return self._get("vae", air, self._load_diffusers_model("AutoencoderKL"), module_bytes)

    def _load_checkpoint(self, entry: ModelEntry, path: Any) -> LoadedCheckpoint:
        from diffusers import DiffusionPipeline

        apply_clip_skip_shim()
        pipe = DiffusionPipeline.from_pretrained(path, dtype=self.device.torch_dtype(), local_files_only=True)
        pipe.to(self.device.device)
        pipe.set_progress_bar_config(disable=True)
        return LoadedCheckpoint(entry, pipe, pipe.scheduler.config)

    def _load_diffusers_model(self, class_name: str) -> Callable[[ModelEntry, Any], Any]:
        def load(entry: ModelEntry, path: Any) -> Any:
            import diffusers

            cls = getattr(diffusers, class_name)
            model = cls.from_pretrained(path, dtype=self.device.torch_dtype(), local_files_only=True)
            return model.to(self.device.device).eval()

        return load

    # -- adapters ------------------------------------------------------------------------------------------
    def apply_loras(self, ckpt: LoadedCheckpoint, loras: Iterable[tuple[str, float, str]]) -> None:
        """Make exactly these (AIR, weight, field) LoRAs active: unload the rest, load the new ones by name."""
        wanted = {air: (weight, where) for air, weight, where in loras}
        pipe = ckpt.pipe
        if not wanted:
            if ckpt.loras:
                pipe.unload_lora_weights()  # restores the base weights exactly
                ckpt.loras.clear()
            return
        stale = [air for air in ckpt.loras if air not in wanted]
        if stale:
            pipe.delete_adapters([ckpt.loras.pop(air) for air in stale])
        for air, (_, where) in wanted.items():
            if air in ckpt.loras:
                continue
            try:
                entry, path = self.catalog.resolve(air, "lora")
            except CatalogError as exc:
                raise model_error(exc, where) from exc
            check_family(entry, ckpt.entry, where)
            name = "lora_" + re.sub(r"\W", "_", air)
            pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name=name)
            ckpt.loras[air] = name
            self.adapter_loads[air] += 1
        pipe.set_adapters([ckpt.loras[a] for a in wanted], adapter_weights=[w for w, _ in wanted.values()])

    def apply_embeddings(
        self, ckpt: LoadedCheckpoint, embeddings: Iterable[tuple[str, float, str]]
    ) -> tuple[list[str], list[str]]:
        """Load textual inversions scaled by |weight|; returns the tokens for the positive and negative prompt.

        A negative weight means "avoid this concept": its token goes into the negative prompt, the way negative
        embeddings are used, so it acts through classifier-free guidance.
        """
        wanted = {air: (weight, where) for air, weight, where in embeddings if weight != 0}
        for air in list(ckpt.embeddings):
            weight, tokens = ckpt.embeddings[air]
            if air not in wanted or abs(wanted[air][0]) != abs(weight):
                for i, (tok, enc) in enumerate(ckpt.text_pairs()):
                    if i in tokens:
                        ckpt.pipe.unload_textual_inversion(tokens[i], tokenizer=tok, text_encoder=enc)
                del ckpt.embeddings[air]
        positive: list[str] = []
        negative: list[str] = []
        for air, (weight, where) in wanted.items():
            token = "<" + re.sub(r"\W", "_", air) + ">"
            if air not in ckpt.embeddings:
                ckpt.embeddings[air] = (weight, self._load_embedding(ckpt, air, token, abs(weight), where))
            (positive if weight > 0 else negative).append(token)
        return positive, negative

    def _load_embedding(
        self, ckpt: LoadedCheckpoint, air: str, token: str, scale: float, where: str
    ) -> dict[int, list[str]]:
        from safetensors.torch import load_file

        try:
            entry, path = self.catalog.resolve(air, "embedding")
        except CatalogError as exc:
            raise model_error(exc, where) from exc
        check_family(entry, ckpt.entry, where)
        state = load_file(str(path))
        pairs = ckpt.text_pairs()
        # SDXL files hold one tensor per text encoder (clip_l, clip_g); SD 1.5 files hold one.
        if "clip_l" in state or "clip_g" in state:
            vectors = {0: state.get("clip_l"), 1: state.get("clip_g")} if len(pairs) == 2 else {0: state.get("clip_g")}
        elif "string_to_param" in state:
            vectors = {0: state["string_to_param"]["*"]}
        elif len(state) == 1:
            vectors = {0: next(iter(state.values()))}
        else:
            raise ApiError("invalidModel", f"{where}: {air} is not a textual inversion file", parameter=where)
        loaded: dict[int, list[str]] = {}
        for i, (tok, enc) in enumerate(pairs):
            vec = vectors.get(i)
            if vec is None:
                continue
            emb_dim = enc.get_input_embeddings().weight.shape[-1]
            if vec.shape[-1] != emb_dim:
                raise ApiError(
                    "invalidModel",
                    f"{where}: {air} has vectors of size {vec.shape[-1]}, the model's text encoder needs {emb_dim}",
                    parameter=where,
                )
            vec = vec.reshape(-1, emb_dim).to(dtype=enc.dtype, device=enc.device) * scale
            ckpt.pipe.load_textual_inversion(vec, token=token, tokenizer=tok, text_encoder=enc)
            vocab = tok.get_vocab()
            loaded[i] = [
                t for t in vocab if t == token or (t.startswith(token + "_") and t[len(token) + 1 :].isdigit())
            ]
        self.adapter_loads[air] += 1
        return loaded


def check_family(entry: ModelEntry, base: ModelEntry, where: str) -> None:
    a, b = family(entry.architecture), family(base.architecture)
    if "other" not in (a, b) and a != b:
        raise ApiError(
            "invalidParameter",
            f"{where}: {entry.air} is a {ARCHITECTURES[entry.architecture].title} model; "
            f"{base.air} is {ARCHITECTURES[base.architecture].title}",
            parameter=where,
            http_status=400,
        )
