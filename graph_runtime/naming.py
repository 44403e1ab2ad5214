"""Output file names from a pattern such as "{workflow}-{seed}-{index}"."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

#: Tokens a Save Image pattern may use, with what each stands for (shown in the editor and in errors).
FILENAME_TOKENS: dict[str, str] = {
    "workflow": "the workflow's name",
    "title": "the Save Image node's title",
    "node": "the Save Image node's id",
    "seed": "the seed the image was made with",
    "index": "the image's position among the node's results (0, 1, ...)",
    "date": "the run's date, YYYY-MM-DD",
    "time": "the run's time, HHMMSS",
}

_UNSAFE = re.compile(r"[^\w.-]+")


def pattern_problems(pattern: str) -> list[str]:
    """Why a pattern cannot be used (unknown tokens, bad braces, path separators); empty when it is fine."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]
    except ValueError as exc:
        return [f"malformed pattern: {exc}"]
    problems = [
        f"unknown token {{{name}}}; use any of " + ", ".join(f"{{{t}}}" for t in FILENAME_TOKENS)
        for name in fields
        if name not in FILENAME_TOKENS
    ]
    if "/" in pattern or "\\" in pattern:
        problems.append("a file-name pattern cannot contain / or \\ (use the folder field for sub-folders)")
    return problems


def render_filename(pattern: str, values: Mapping[str, Any]) -> str:
    """The file name (without extension) for one image; every value is made safe for any file system."""
    safe = {k: _UNSAFE.sub("_", str(values.get(k, ""))).strip("._") for k in FILENAME_TOKENS}
    name = pattern.format_map(safe).strip(" .")
    return name or "image"
