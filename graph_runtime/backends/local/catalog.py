"""The local model catalogue: a models folder laid out like ComfyUI's plus an index of AIR ids.

    <models dir>/index.json        {"version": 1, "models": {air: {kind, architecture, path, format}}}
    <models dir>/checkpoints/ loras/ embeddings/ controlnet/ vae/

Paths in the index are relative to the models folder and may never leave it. This module imports no torch:
the executor and CLI use it to report missing models before anything runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from graph_runtime.api_facts import ARCHITECTURES, is_air
from graph_runtime.atomic import write_text_atomic

INDEX_NAME = "index.json"
INDEX_VERSION = 1
MODELS_DIR_ENV = "LOOMWARE_MODELS_DIR"

#: Model kinds and the ComfyUI-style subfolder each lives in.
KIND_FOLDERS: dict[str, str] = {
    "checkpoint": "checkpoints",
    "lora": "loras",
    "embedding": "embeddings",
    "controlnet": "controlnet",
    "vae": "vae",
}
KINDS: tuple[str, ...] = tuple(KIND_FOLDERS)
#: "diffusers": a folder saved with save_pretrained; "safetensors": one .safetensors file.
FORMATS: tuple[str, ...] = ("diffusers", "safetensors")
#: Kinds that load from a single .safetensors file without a hub config (the rest need diffusers folders).
SINGLE_FILE_KINDS: tuple[str, ...] = ("lora", "embedding")


class CatalogError(ValueError):
    """A catalogue problem a person can fix; the message says how."""


class ModelNotFoundError(CatalogError):
    def __init__(self, air: str, kind: str, reason: str = "is not in the local model catalogue") -> None:
        self.air = air
        self.kind = kind
        super().__init__(
            f"{kind} {air} {reason}. Add it with `loomware models add {air} {kind} <path>` "
            "(or `loomware models init-demo` for the demo models)."
        )


@dataclass(frozen=True)
class ModelEntry:
    air: str
    kind: str
    architecture: str
    path: str  # relative to the models folder, POSIX separators
    format: str

    def to_json(self) -> dict[str, str]:
        out = asdict(self)
        del out["air"]
        return out


@dataclass(frozen=True)
class MissingModel:
    """A model a task names that the catalogue lacks, found before anything runs."""

    task_uuid: str | None
    field: str  # e.g. "lora[1].model"
    air: str
    kind: str

    @property
    def message(self) -> str:
        return str(ModelNotFoundError(self.air, self.kind))


def default_models_dir() -> Path:
    """LOOMWARE_MODELS_DIR, else the per-user data folder (e.g. ~/.local/share/loomware/models)."""
    if env := os.environ.get(MODELS_DIR_ENV):
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("loomware")) / "models"


def model_refs(task: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(field, air, kind) for every model an imageInference task names."""
    if task.get("taskType") != "imageInference":
        return
    if isinstance(task.get("model"), str):
        yield "model", task["model"], "checkpoint"
    if isinstance(task.get("vae"), str):
        yield "vae", task["vae"], "vae"
    refiner = task.get("refiner")
    if isinstance(refiner, dict) and isinstance(refiner.get("model"), str):
        yield "refiner.model", refiner["model"], "checkpoint"
    for key, kind in (("lora", "lora"), ("embeddings", "embedding"), ("controlNet", "controlnet")):
        items = task.get(key)
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, dict) and isinstance(item.get("model"), str):
                    yield f"{key}[{i}].model", item["model"], kind


class Catalog:
    """The models folder and its index. Safe to share between threads; the index is re-read when it changes."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser().resolve() if root is not None else default_models_dir().resolve()
        self._lock = threading.RLock()
        self._cache: tuple[tuple[int, int], dict[str, ModelEntry]] | None = None

    def __repr__(self) -> str:
        return f"Catalog({str(self.root)!r})"

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_NAME

    def kind_folder(self, kind: str) -> Path:
        _check_kind(kind)
        return self.root / KIND_FOLDERS[kind]

    def ensure_layout(self) -> None:
        for folder in KIND_FOLDERS.values():
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    # -- reading -------------------------------------------------------------------------------------------
    def entries(self) -> dict[str, ModelEntry]:
        with self._lock:
            try:
                st = self.index_path.stat()
            except FileNotFoundError:
                return {}
            stamp = (st.st_mtime_ns, st.st_size)
            if self._cache is None or self._cache[0] != stamp:
                self._cache = (stamp, self._read_index())
            return dict(self._cache[1])

    def _read_index(self) -> dict[str, ModelEntry]:
        try:
            raw = json.loads(self.index_path.read_text(encoding="utf-8"))
            models = raw["models"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CatalogError(f"the catalogue index {self.index_path} is unreadable: {exc}") from exc
        out: dict[str, ModelEntry] = {}
        for air, info in models.items():
            try:
                out[air] = ModelEntry(air=air, **{k: str(info[k]) for k in ("kind", "architecture", "path", "format")})
            except (KeyError, TypeError) as exc:
                raise CatalogError(f"the catalogue index entry {air!r} is malformed: {exc}") from exc
        return out

    def get(self, air: str) -> ModelEntry | None:
        return self.entries().get(air)

    def resolve(self, air: str, kind: str) -> tuple[ModelEntry, Path]:
        """The entry and absolute path of `air`, checked to be of `kind` and to lie inside the catalogue."""
        _check_kind(kind)
        entry = self.get(air)
        if entry is None:
            raise ModelNotFoundError(air, kind)
        if entry.kind != kind:
            raise CatalogError(f"{air} is a {entry.kind} in the local catalogue, not a {kind}")
        path = self.confine(entry.path)
        if not path.exists():
            raise ModelNotFoundError(air, kind, f"is indexed but its files are gone ({entry.path})")
        return entry, path

    def confine(self, relative: str) -> Path:
        """`relative` as an absolute path, refusing anything (absolute, '..', symlink) that escapes the folder."""
        if not relative or Path(relative).is_absolute() or "\\" in relative:
            raise CatalogError(f"model path {relative!r} must be relative to the models folder")
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise CatalogError(f"model path {relative!r} leaves the models folder {self.root}")
        return path

    def missing(self, tasks: Iterable[dict[str, Any]]) -> list[MissingModel]:
        """Every model the tasks name that is absent (or of the wrong kind): report these before running."""
        entries = self.entries()
        out: list[MissingModel] = []
        for task in tasks:
            for field, air, kind in model_refs(task):
                entry = entries.get(air)
                if entry is None or entry.kind != kind or not (self.root / entry.path).exists():
                    out.append(MissingModel(task.get("taskUUID"), field, air, kind))
        return out

    # -- writing -------------------------------------------------------------------------------------------
    def _write(self, entries: dict[str, ModelEntry]) -> None:
        body = {"version": INDEX_VERSION, "models": {air: entries[air].to_json() for air in sorted(entries)}}
        write_text_atomic(self.index_path, json.dumps(body, indent=2) + "\n")
        self._cache = None

    def add(
        self,
        air: str,
        kind: str,
        source: str | os.PathLike[str],
        *,
        architecture: str | None = None,
        link: bool = False,
        replace: bool = False,
    ) -> ModelEntry:
        """Index `source` under `air`. Files outside the catalogue are copied (or symlinked) into its subfolder."""
        if not is_air(air):
            raise CatalogError(f"{air!r} is not an AIR id (source:id@version, e.g. local:my-model@1)")
        _check_kind(kind)
        src = Path(source).expanduser().resolve()
        if not src.exists():
            raise CatalogError(f"{src} does not exist")
        fmt = detect_format(src, kind)
        arch = architecture or guess_architecture(src, kind, fmt)
        if arch not in ARCHITECTURES:
            raise CatalogError(f"architecture {arch!r} is unknown; one of: {', '.join(ARCHITECTURES)}")
        with self._lock:
            entries = self.entries()
            if air in entries and not replace:
                raise CatalogError(f"{air} is already in the catalogue; remove it first")
            self.ensure_layout()
            if src.is_relative_to(self.root):
                target = src
            else:
                target = self.kind_folder(kind) / src.name
                if target.exists() or target.is_symlink():
                    raise CatalogError(f"{target} already exists in the catalogue; rename the source")
                if link:
                    target.symlink_to(src, target_is_directory=src.is_dir())
                elif src.is_dir():
                    shutil.copytree(src, target)
                else:
                    shutil.copy2(src, target)
            entry = ModelEntry(air, kind, arch, target.relative_to(self.root).as_posix(), fmt)
            entries[air] = entry
            self._write(entries)
            return entry

    def remove(self, air: str, *, delete_files: bool = False) -> ModelEntry:
        with self._lock:
            entries = self.entries()
            entry = entries.pop(air, None)
            if entry is None:
                raise CatalogError(f"{air} is not in the catalogue")
            self._write(entries)
            if delete_files:
                path = self.root / entry.path  # not resolved: a symlink is removed, never its target
                if path.is_symlink() or path.is_file():
                    path.unlink()
                elif path.is_dir():
                    shutil.rmtree(self.confine(entry.path))
            return entry

    def scan(self) -> list[ModelEntry]:
        """Index models dropped into the kind subfolders by hand, as local:<name>@1. Returns the new entries."""
        added: list[ModelEntry] = []
        with self._lock:
            known = {e.path for e in self.entries().values()}
            for kind, folder in KIND_FOLDERS.items():
                base = self.root / folder
                if not base.is_dir():
                    continue
                for child in sorted(base.iterdir()):
                    rel = child.relative_to(self.root).as_posix()
                    if rel in known or child.name.startswith("."):
                        continue
                    try:
                        detect_format(child, kind)
                    except CatalogError:
                        continue  # not a model (a README, a half-copied folder)
                    air = self._free_air(f"local:{_slug(child)}@1")
                    added.append(self.add(air, kind, child))
        return added

    def _free_air(self, air: str) -> str:
        entries = self.entries()
        stem, _, _ = air.rpartition("@")
        n = 1
        while air in entries:
            n += 1
            air = f"{stem}@{n}"
        return air


def _check_kind(kind: str) -> None:
    if kind not in KIND_FOLDERS:
        raise CatalogError(f"model kind {kind!r} is unknown; one of: {', '.join(KINDS)}")


def _slug(path: Path) -> str:
    name = path.name.removesuffix(".safetensors")
    return re.sub(r"[^a-z0-9.-]+", "-", name.lower()).strip("-.") or "model"


def detect_format(path: Path, kind: str) -> str:
    """'diffusers' for a save_pretrained folder, 'safetensors' for one file; anything else is refused."""
    if path.is_dir():
        if (path / "model_index.json").is_file() or (path / "config.json").is_file():
            if kind in SINGLE_FILE_KINDS:
                raise CatalogError(f"a {kind} must be one .safetensors file, not the folder {path}")
            return "diffusers"
        raise CatalogError(f"{path} is not a diffusers folder (no model_index.json or config.json)")
    if path.suffix.lower() == ".safetensors":
        if kind not in SINGLE_FILE_KINDS:
            raise CatalogError(
                f"a single-file {kind} cannot load offline (it needs a hub config); save it as a diffusers "
                f"folder (pipeline.save_pretrained) and add that folder"
            )
        return "safetensors"
    raise CatalogError(f"{path} is not a .safetensors file or a diffusers folder (pickle formats are refused)")


def safetensors_keys(path: Path) -> list[str]:
    """Tensor names from a .safetensors header, read without torch (8-byte length, then JSON)."""
    with path.open("rb") as fh:
        (length,) = struct.unpack("<Q", fh.read(8))
        if length > 100_000_000:
            raise CatalogError(f"{path} has an implausible safetensors header")
        header = json.loads(fh.read(length))
    return [k for k in header if k != "__metadata__"]


def guess_architecture(path: Path, kind: str, fmt: str) -> str:
    """Best effort from configs or tensor names; 'other' when unsure (then pass --architecture)."""
    try:
        if fmt == "safetensors":
            keys = " ".join(safetensors_keys(path))
            if any(k in keys for k in ("text_encoder_2", "lora_te2_", "clip_g", "add_embedding")):
                return "sdxl"
            return "sd1.5" if kind in ("lora", "embedding") else "other"
        index = path / "model_index.json"
        if index.is_file():
            name = json.loads(index.read_text(encoding="utf-8")).get("_class_name", "")
            if "XL" in name:
                return "sdxl"
            if "Flux" in name:
                return "flux-dev"
            return "sd1.5" if name.startswith("StableDiffusion") else "other"
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        if config.get("addition_embed_type") == "text_time":
            return "sdxl"
        return "sd1.5" if kind == "controlnet" else "other"
    except (OSError, ValueError, struct.error):
        return "other"
