"""Images in and out of the local engine: the store behind imageUUIDs, image references, output encoding.

Image references (seedImage, maskImage, guideImage, inputImage, image) are what the API accepts: the UUID of an
uploaded or generated image, a data URI, raw base64, or an http(s) URL. URLs are fetched only where the engine
was built to allow it (the HTTP server), with timeouts and a size cap; file:// URLs and paths are refused.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from graph_runtime.api_facts import OUTPUT_FORMATS
from graph_runtime.backends.base import ApiError, JsonDict

#: Scheme of URL outputs in-process; `LocalBackend.fetch_image` serves them and the server rewrites them.
LOCAL_URL_SCHEME = "loomware-local://"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_STORED_NAME = re.compile(r"([0-9a-fA-F-]{36})\.(jpg|png|webp)$")
_DATA_URI = re.compile(r"^data:image/[\w.+-]+;base64,(.*)$", re.DOTALL)

#: Output format -> (file extension, MIME type, PIL format name).
FORMAT_INFO: dict[str, tuple[str, str, str]] = {
    "JPG": ("jpg", "image/jpeg", "JPEG"),
    "PNG": ("png", "image/png", "PNG"),
    "WEBP": ("webp", "image/webp", "WEBP"),
}
assert tuple(FORMAT_INFO) == OUTPUT_FORMATS, "FORMAT_INFO must cover api_facts.OUTPUT_FORMATS"
EXT_MIME: dict[str, str] = {ext: mime for ext, mime, _ in FORMAT_INFO.values()}
MAX_IMAGE_PIXELS = 4096 * 4096
REF_FORMS = "an image UUID, a data URI, raw base64 or an http(s) URL"


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


@dataclass
class StoredImage:
    image: Image.Image  # decoded once, reused when the UUID feeds another task
    data: bytes  # the encoded file served at the image's URL
    ext: str


class ImageStore:
    """Uploaded and generated images by UUID, least recently used dropped beyond a byte budget."""

    def __init__(self, max_bytes: int = 1 << 30) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, StoredImage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, image: Image.Image, data: bytes, ext: str, image_uuid: str | None = None) -> str:
        key = image_uuid or str(uuid.uuid4())
        cost = len(data) + image.width * image.height * 3
        with self._lock:
            if (old := self._items.pop(key, None)) is not None:
                self._bytes -= len(old.data) + old.image.width * old.image.height * 3
            self._items[key] = StoredImage(image, data, ext)
            self._bytes += cost
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.data) + dropped.image.width * dropped.image.height * 3
        return key

    def get(self, image_uuid: str) -> StoredImage | None:
        with self._lock:
            item = self._items.get(image_uuid.lower())
            if item is not None:
                self._items.move_to_end(image_uuid.lower())
            return item

    def by_name(self, name: str) -> StoredImage | None:
        """The image behind a URL's last path part `<uuid>.<ext>` (only with its own extension)."""
        match = _STORED_NAME.search(name)
        if not match:
            return None
        item = self.get(match.group(1))
        return item if item is not None and item.ext == match.group(2).lower() else None


def decode_image(data: bytes, field: str) -> Image.Image:
    """Bytes -> RGB(A) image, refusing non-images and decompression bombs with an API error."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise _invalid(field, f"the image is {img.width}x{img.height}; at most {MAX_IMAGE_PIXELS} pixels")
            img.load()
            return img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise _invalid(field, f"not a PNG, JPG or WEBP image ({exc.__class__.__name__})") from exc


def decode_inline(ref: str, field: str) -> bytes | None:
    """The bytes of a data URI or raw base64 reference; None when `ref` is neither."""
    if match := _DATA_URI.match(ref):
        payload = match.group(1)
    elif ref.startswith("data:"):
        raise _invalid(field, "a data URI must look like data:image/png;base64,<data>")
    else:
        payload = ref
    try:
        return base64.b64decode(payload.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def encode_image(image: Image.Image, output_format: str, quality: int) -> bytes:
    _, _, pil_format = FORMAT_INFO[output_format]
    if pil_format == "JPEG" and image.mode != "RGB":
        image = image.convert("RGB")
    buf = io.BytesIO()
    options: dict[str, Any] = {"quality": quality} if pil_format in ("JPEG", "WEBP") else {}
    image.save(buf, format=pil_format, **options)
    return buf.getvalue()


def output_fields(prefix: str, data: bytes, image_uuid: str, output_type: str, output_format: str) -> JsonDict:
    """`imageURL` / `imageBase64Data` / `imageDataURI` (prefix "image" or "guideImage") for one image."""
    ext, mime, _ = FORMAT_INFO[output_format]
    if output_type == "URL":
        return {f"{prefix}URL": f"{LOCAL_URL_SCHEME}{image_uuid}.{ext}"}
    b64 = base64.b64encode(data).decode("ascii")
    if output_type == "base64Data":
        return {f"{prefix}Base64Data": b64}
    return {f"{prefix}DataURI": f"data:{mime};base64,{b64}"}


def _invalid(field: str, message: str) -> ApiError:
    return ApiError("invalidParameter", f"{field}: {message}", parameter=field, http_status=400)
