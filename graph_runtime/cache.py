"""On-disk caches in the user's cache folder (`LOOMWARE_CACHE_DIR` overrides it):

- results by task signature: the result items plus the bytes of every image they hold, so an unchanged graph
  re-saves its outputs without a single request;
- upload UUIDs by content hash, per backend endpoint, so the same file is not uploaded again in a later run.

A signature is the sha256 of a task's canonical JSON with its taskUUID left out and every input reference
replaced by the signature of the task that produced it (plus the field and item index). Anything that cannot be
fingerprinted gets no signature and simply runs. Every write is atomic; a damaged entry reads as a miss. Results
stored together (one request's) share one file, hard-linked under each of their signatures.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_runtime.atomic import write_bytes_atomic, write_text_atomic

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
#: One result to store: its signature, its items and the bytes of its images by (item index, prefix).
CacheEntry = tuple[str, list[JsonDict], dict[tuple[int, str], bytes]]
CACHE_VERSION = 1
#: Task fields that do not change what a task makes.
VOLATILE_FIELDS = frozenset({"taskUUID", "deliveryMethod", "includeCost", "webhookURL", "uploadEndpoint", "ttl"})
#: Result-item suffixes that carry an image (after a prefix such as "image" or "guideImage").
IMAGE_SUFFIXES = ("URL", "Base64Data", "DataURI")


def fingerprint(value: Any) -> str:
    """sha256 of canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_prefixes(item: JsonDict) -> list[str]:
    """Prefixes of the images an item holds: "image" for imageUUID/imageURL, "guideImage" for guide images."""
    return [k[: -len("UUID")] for k in item if k.endswith("UUID") and k != "taskUUID" and not k.startswith("input")]


@dataclass
class CachedResult:
    items: list[JsonDict]
    images: dict[tuple[int, str], Path] = field(default_factory=dict)  # (item index, prefix) -> blob

    def image_bytes(self, index: int, prefix: str) -> bytes | None:
        path = self.images.get((index, prefix))
        try:
            return path.read_bytes() if path else None
        except OSError:
            return None


class ResultCache:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def _entry(self, sig: str) -> Path:
        return self.root / "results" / sig[:2] / f"{sig}.json"

    def _blob(self, digest: str) -> Path:
        return self.root / "blobs" / digest[:2] / digest

    def get(self, sig: str) -> CachedResult | None:
        try:
            raw = json.loads(self._entry(sig).read_text(encoding="utf-8"))
            if raw.get("version") != CACHE_VERSION:
                raise ValueError("stale entry")
            if "entries" in raw:  # a pack (see put_many): this signature's entry is one of several
                raw = raw["entries"][sig]
            if not isinstance(raw.get("items"), list):
                raise ValueError("stale entry")
            images: dict[tuple[int, str], Path] = {}
            for ref in raw.get("images", []):
                blob = self._blob(str(ref["blob"]))
                if not blob.is_file():
                    raise ValueError("blob missing")
                images[(int(ref["item"]), str(ref["prefix"]))] = blob
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.misses += 1
            return None
        self.hits += 1
        return CachedResult(items=raw["items"], images=images)

    def put(self, sig: str, items: list[JsonDict], images: dict[tuple[int, str], bytes]) -> None:
        """Store items and image bytes; items lose their inline image data (the bytes are in blobs)."""
        body = self._body(items, self._put_blobs(images))
        self._write_entry(sig, json.dumps({"version": CACHE_VERSION, **body}, ensure_ascii=False))

    def put_many(self, entries: Iterable[CacheEntry]) -> int:
        """Store several results (a request's) with one file, written once and hard-linked under each signature.

        A link costs a directory entry; a file per entry costs an inode and a write, which was 0.3-1 ms of CPU per
        entry on the (virtualised) machine this was measured on. Each name still appears whole, in one rename. A
        result that cannot be stored is skipped: the next run simply runs that task again. Returns how many were.
        """
        bodies: dict[str, str] = {}
        for sig, items, images in entries:
            try:
                bodies[sig] = json.dumps(self._body(items, self._put_blobs(images)), ensure_ascii=False)
            except (OSError, ValueError, TypeError) as exc:
                log.info("result %s not cached: %s", sig[:12], exc)
        if len(bodies) <= 1:
            return sum(self._put_text(sig, body) for sig, body in bodies.items())
        members = ", ".join(f"{json.dumps(sig)}: {body}" for sig, body in bodies.items())
        pack = self._write_pack(f'{{"version": {CACHE_VERSION}, "entries": {{{members}}}}}')
        try:
            return sum(self._link_entry(pack, sig, body) for sig, body in bodies.items())
        finally:
            with contextlib.suppress(OSError):
                os.unlink(pack)

    def _body(self, items: list[JsonDict], refs: list[JsonDict]) -> JsonDict:
        slim = [{k: v for k, v in item.items() if not k.endswith(("Base64Data", "DataURI"))} for item in items]
        return {"created": time.time(), "items": slim, "images": refs}

    def _put_blobs(self, images: dict[tuple[int, str], bytes]) -> list[JsonDict]:
        refs = []
        for (index, prefix), data in images.items():
            digest = sha256_bytes(data)
            blob = self._blob(digest)
            if not blob.is_file():
                write_bytes_atomic(blob, data, durable=False)
            refs.append({"item": index, "prefix": prefix, "blob": digest})
        return refs

    def _write_entry(self, sig: str, text: str) -> None:
        write_text_atomic(self._entry(sig), text, durable=False)

    def _put_text(self, sig: str, body: str) -> bool:
        """One entry in its own file (the format `put` writes)."""
        try:
            self._write_entry(sig, f'{{"version": {CACHE_VERSION}, {body[1:]}')
        except OSError as exc:
            log.info("result %s not cached: %s", sig[:12], exc)
            return False
        return True

    def _write_pack(self, text: str) -> Path:
        folder = self.root / "results"
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".pack-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(text.encode("utf-8"))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        return Path(name)

    def _link_entry(self, pack: Path, sig: str, body: str) -> bool:
        """Link the (complete, closed) pack under `sig` by a rename; where links fail, a file of its own."""
        target = self._entry(sig)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            try:
                os.link(pack, tmp)
            except FileNotFoundError:  # the first entry in this folder
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(pack, tmp)
            try:
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:  # no hard links here (or a rare name clash)
            return self._put_text(sig, body)
        return True


class UploadCache:
    """sha256 of a file's bytes -> the imageUUID it got at one endpoint."""

    def __init__(self, root: str | Path, endpoint: str) -> None:
        self.path = Path(root) / "uploads" / f"{fingerprint(endpoint)[:24]}.json"
        self.endpoint = endpoint
        self._lock = threading.Lock()
        self._data: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._data is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._data = {str(k): str(v) for k, v in raw.get("uuids", {}).items()}
            except (OSError, ValueError, AttributeError):
                self._data = {}
        return self._data

    def get(self, digest: str) -> str | None:
        with self._lock:
            return self._load().get(digest)

    def put(self, digest: str, image_uuid: str) -> None:
        with self._lock:
            data = self._load()
            data[digest] = image_uuid
            self._save(data)

    def forget(self, digest: str) -> None:
        with self._lock:
            data = self._load()
            if data.pop(digest, None) is not None:
                self._save(data)

    def _save(self, data: dict[str, str]) -> None:
        write_text_atomic(self.path, json.dumps({"endpoint": self.endpoint, "uuids": data}, indent=1))
