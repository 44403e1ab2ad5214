"""ControlNet preprocessors that need no model weights, computed honestly with numpy and Pillow.

- canny: OpenCV's algorithm (3x3 Sobel, L1 gradient magnitude, non-maximum suppression, hysteresis).
- tile: the tile ControlNet is guided by a blurred copy of the image itself.
- shuffle: the content-shuffle annotator (random smooth flow fields remap the image), seeded.
Every other type (depth, openpose, lineart, ...) needs a network's weights and is refused with an API error.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from graph_runtime.api_facts import PREPROCESSORS

WEIGHT_FREE: tuple[str, ...] = ("canny", "tile", "shuffle")
assert set(WEIGHT_FREE) <= set(PREPROCESSORS)


def canny(image: Image.Image, low: int, high: int) -> Image.Image:
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    padded = np.pad(gray, 1, mode="reflect")

    # 3x3 Sobel as shifted sums (no scipy): gx = right - left columns, gy = bottom - top rows, 1-2-1 weights.
    def win(dy: int, dx: int) -> np.ndarray:
        return padded[1 + dy : padded.shape[0] - 1 + dy, 1 + dx : padded.shape[1] - 1 + dx]

    gx = (win(-1, 1) + 2 * win(0, 1) + win(1, 1)) - (win(-1, -1) + 2 * win(0, -1) + win(1, -1))
    gy = (win(1, -1) + 2 * win(1, 0) + win(1, 1)) - (win(-1, -1) + 2 * win(-1, 0) + win(-1, 1))
    magnitude = np.abs(gx) + np.abs(gy)
    thin = _non_maximum_suppression(magnitude, gx, gy)
    strong = thin >= high
    weak = thin >= low
    edges = _hysteresis(strong, weak)
    return Image.fromarray((edges * 255).astype(np.uint8), mode="L").convert("RGB")


def _non_maximum_suppression(mag: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Keep pixels that are the maximum along their gradient direction (quantised to 4 directions)."""
    angle = (np.rad2deg(np.arctan2(gy, gx)) + 180.0) % 180.0
    padded = np.pad(mag, 1)
    h, w = mag.shape

    def neighbour(dy: int, dx: int) -> np.ndarray:
        return padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]

    keep = np.zeros_like(mag, dtype=bool)
    # In image coordinates (y down) a gradient at 45 degrees points to the lower right.
    for lo, hi, (dy, dx) in ((0, 22.5, (0, 1)), (157.5, 180.1, (0, 1)), (22.5, 67.5, (1, 1)),
                             (67.5, 112.5, (1, 0)), (112.5, 157.5, (1, -1))):  # fmt: skip
        band = (angle >= lo) & (angle < hi)
        a, b = neighbour(dy, dx), neighbour(-dy, -dx)
        keep |= band & (mag > a) & (mag >= b)
    return np.where(keep, mag, 0.0)


def _hysteresis(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """Weak pixels survive when 8-connected to a strong one through other weak pixels."""
    edges = strong.copy()
    while True:
        padded = np.pad(edges, 1)
        h, w = edges.shape
        grown = np.zeros_like(edges)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                grown |= padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
        grown &= weak
        if np.array_equal(grown, edges):
            return edges
        edges = grown


def tile(image: Image.Image) -> Image.Image:
    radius = max(1.0, min(image.size) / 128)
    return image.convert("RGB").filter(ImageFilter.GaussianBlur(radius))


def shuffle(image: Image.Image, seed: int = 0, f: int = 256) -> Image.Image:
    """The content-shuffle annotator: remap pixels through two smooth random fields."""
    rng = np.random.default_rng(seed)
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    h, w, _ = rgb.shape
    x = _noise_disk(rng, h, w, f) * (w - 1)
    y = _noise_disk(rng, h, w, f) * (h - 1)
    return Image.fromarray(_bilinear(rgb, x, y).clip(0, 255).astype(np.uint8), mode="RGB")


def _noise_disk(rng: np.random.Generator, h: int, w: int, f: int) -> np.ndarray:
    coarse = rng.uniform(0, 1, size=(h // f + 2, w // f + 2)).astype(np.float32)
    smooth = np.asarray(Image.fromarray(coarse, mode="F").resize((w + 2 * f, h + 2 * f), Image.BICUBIC))
    noise = smooth[f : f + h, f : f + w]
    noise = noise - noise.min()
    return noise / max(float(noise.max()), 1e-6)


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    h, w, _ = img.shape
    x0 = np.clip(np.floor(x).astype(int), 0, w - 1)
    y0 = np.clip(np.floor(y).astype(int), 0, h - 1)
    x1, y1 = np.clip(x0 + 1, 0, w - 1), np.clip(y0 + 1, 0, h - 1)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return top * (1 - fy) + bottom * fy
