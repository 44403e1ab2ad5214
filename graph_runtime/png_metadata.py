"""The workflow and the task inside output images, as ComfyUI does: drag an image back, get its graph.

PNGs carry them in iTXt chunks inserted after IHDR, without re-encoding the pixels (the bytes the service sent
stay as they were). JPG and WEBP images get a sidecar `<image file>.json` beside them instead.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

WORKFLOW_KEY = "loomware.workflow"
TASK_KEY = "loomware.task"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SIDECAR_SUFFIX = ".json"
_TEXT_CHUNKS = (b"tEXt", b"iTXt", b"zTXt")


class PngError(ValueError):
    pass


def is_png(data: bytes) -> bool:
    return data.startswith(PNG_SIGNATURE)


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes, int, int]]:
    """(type, body, start, end) of each chunk; raises PngError on a truncated file."""
    if not is_png(data):
        raise PngError("not a PNG file")
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise PngError("truncated PNG chunk header")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise PngError(f"truncated PNG chunk {kind!r}")
        yield kind, data[pos + 8 : pos + 8 + length], pos, end
        pos = end
        if kind == b"IEND":
            break


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _itxt(keyword: str, text: str) -> bytes:
    # keyword, NUL, compression flag + method, empty language tag and translated keyword, UTF-8 text (zlib)
    body = keyword.encode("latin-1") + b"\x00\x01\x00\x00\x00" + zlib.compress(text.encode("utf-8"), 9)
    return _chunk(b"iTXt", body)


def _decode_text_chunk(kind: bytes, body: bytes) -> tuple[str, str] | None:
    keyword, sep, rest = body.partition(b"\x00")
    if not sep:
        return None
    try:
        if kind == b"tEXt":
            return keyword.decode("latin-1"), rest.decode("latin-1")
        if kind == b"zTXt":
            return keyword.decode("latin-1"), zlib.decompress(rest[1:]).decode("latin-1")
        compressed = rest[0] == 1
        rest = rest[2:]
        _lang, _, rest = rest.partition(b"\x00")
        _translated, _, text = rest.partition(b"\x00")
        raw = zlib.decompress(text) if compressed else text
        return keyword.decode("latin-1"), raw.decode("utf-8")
    except (zlib.error, UnicodeDecodeError, IndexError):
        return None


def embed_png_text(data: bytes, entries: Mapping[str, str]) -> bytes:
    """The PNG with `entries` as text chunks right after IHDR (replacing earlier ones with the same keys)."""
    out = bytearray(PNG_SIGNATURE)
    inserted = False
    for kind, body, start, end in _chunks(data):
        if kind in _TEXT_CHUNKS and (decoded := _decode_text_chunk(kind, body)) and decoded[0] in entries:
            continue
        out += data[start:end]
        if kind == b"IHDR" and not inserted:
            for key, text in entries.items():
                out += _itxt(key, text)
            inserted = True
    if not inserted:
        raise PngError("PNG without an IHDR chunk")
    return bytes(out)


def read_png_text(data: bytes) -> dict[str, str]:
    """Every text chunk of a PNG (tEXt, zTXt, iTXt), keyword -> text."""
    out: dict[str, str] = {}
    for kind, body, _, _ in _chunks(data):
        if kind in _TEXT_CHUNKS and (decoded := _decode_text_chunk(kind, body)):
            out[decoded[0]] = decoded[1]
    return out


def sidecar_path(image_path: str | Path) -> Path:
    p = Path(image_path)
    return p.with_name(p.name + SIDECAR_SUFFIX)


def metadata_entries(workflow_text: str | None, task: Mapping[str, Any] | None) -> dict[str, str]:
    entries: dict[str, str] = {}
    if workflow_text is not None:
        entries[WORKFLOW_KEY] = workflow_text
    if task is not None:
        entries[TASK_KEY] = json.dumps(task, ensure_ascii=False, indent=2)
    return entries


def sidecar_text(workflow_text: str | None, task: Mapping[str, Any] | None) -> str:
    body: dict[str, Any] = {}
    if workflow_text is not None:
        body[WORKFLOW_KEY] = json.loads(workflow_text)
    if task is not None:
        body[TASK_KEY] = task
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def read_embedded(path: str | Path) -> dict[str, str]:
    """The Loomware metadata of an image: its PNG text chunks, or the sidecar JSON beside a JPG/WEBP."""
    p = Path(path)
    data = p.read_bytes()
    if is_png(data):
        try:
            text = read_png_text(data)
        except PngError:
            text = {}
        found = {k: v for k, v in text.items() if k in (WORKFLOW_KEY, TASK_KEY)}
        if found:
            return found
    side = sidecar_path(p)
    if side.is_file():
        try:
            body = json.loads(side.read_text(encoding="utf-8"))
        except ValueError:
            return {}
        if isinstance(body, dict):
            out: dict[str, str] = {}
            if isinstance(body.get(WORKFLOW_KEY), dict):
                out[WORKFLOW_KEY] = json.dumps(body[WORKFLOW_KEY], ensure_ascii=False, indent=2) + "\n"
            if isinstance(body.get(TASK_KEY), dict):
                out[TASK_KEY] = json.dumps(body[TASK_KEY], ensure_ascii=False, indent=2)
            return out
    return {}


def read_embedded_workflow(path: str | Path) -> str | None:
    """The workflow (canonical JSON text) stored in an image Loomware wrote, or None when it has none."""
    try:
        return read_embedded(path).get(WORKFLOW_KEY)
    except OSError:
        return None


def read_embedded_task(path: str | Path) -> dict[str, Any] | None:
    try:
        text = read_embedded(path).get(TASK_KEY)
    except OSError:
        return None
    return json.loads(text) if text else None
