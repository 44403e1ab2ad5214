"""Images in and out: Load Image (file, URL or existing UUID), Save Image and Preview Image."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from graph_runtime.compile import NodeCompileContext
from graph_runtime.naming import FILENAME_TOKENS, pattern_problems
from graph_runtime.params import Kind, Param
from graph_runtime.registry import InputPort, NodeType, OutputPort, PortType
from graph_runtime.validate import NodeCheckContext

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SOURCES = ("path", "url", "imageUUID")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def _check_load(ctx: NodeCheckContext) -> None:
    given = [name for name in _SOURCES if ctx.is_set(name)]
    if len(given) != 1:
        what = "none is" if not given else f"{', '.join(given)} are"
        ctx.error(
            given[0] if given else "path", "image_source", f"set exactly one of path, url or imageUUID; {what} set"
        )
        return
    value = ctx.param(given[0])
    if not isinstance(value, str) or not ctx.valid(given[0]):
        return
    if given[0] == "path":
        file = ctx.base_dir / Path(value).expanduser()
        if not file.is_file():
            ctx.error("path", "file_not_found", f"no image file at {file}")
        elif file.suffix.lower() not in IMAGE_SUFFIXES:
            ctx.error("path", "unsupported_format", f"{file.name}: the API takes {', '.join(IMAGE_SUFFIXES)} images")
    elif given[0] == "url" and not value.startswith(("http://", "https://")):
        ctx.error("url", "invalid_url", f"{value!r} is not an http(s) URL")
    elif given[0] == "imageUUID" and not _UUID.match(value):
        ctx.error("imageUUID", "invalid_uuid", f"{value!r} is not an image UUID (8-4-4-4-12 hex digits)")


def _compile_load(ctx: NodeCompileContext) -> dict[str, Any]:
    if ctx.param("path") is not None:
        return {"image": ctx.upload(ctx.param("path"))}
    # URLs and UUIDs are image references the API takes as they are: nothing to upload.
    return {"image": ctx.param("url") or ctx.param("imageUUID")}


LOAD_IMAGE = NodeType(
    id="load_image",
    title="Load Image",
    category="Images",
    description="An input image: a local file (uploaded once per run), a public URL, or the UUID of an image "
    "already uploaded or generated.",
    params=(
        Param("path", Kind.PATH, help="A PNG, JPG or WEBP file; relative paths start at the workflow's folder."),
        Param("url", Kind.STRING, help="A public http(s) URL of the image."),
        Param("imageUUID", Kind.STRING, help="The UUID of an image uploaded or generated before."),
    ),
    outputs=(OutputPort("image", PortType.IMAGE),),
    summary=("path", "url", "imageUUID"),
    check=_check_load,
    compile=_compile_load,
)


def _check_save(ctx: NodeCheckContext) -> None:
    pattern = ctx.effective("filename")
    if isinstance(pattern, str):
        for problem in pattern_problems(pattern):
            ctx.error("filename", "invalid_pattern", problem)
    folder = ctx.param("folder")
    if isinstance(folder, str) and (Path(folder).is_absolute() or ".." in Path(folder).parts):
        ctx.error("folder", "invalid_folder", "the folder must be relative to the output directory, without '..'")


def _compile_save(ctx: NodeCompileContext) -> dict[str, Any]:
    options = {"folder": ctx.effective("folder"), "filename": ctx.effective("filename"), "title": ctx.title}
    ctx.add_output("save", ctx.input("image"), options)
    return {}


SAVE_IMAGE = NodeType(
    id="save_image",
    title="Save Image",
    category="Images",
    description="Writes every image it receives into the output directory, never overwriting a file. PNGs carry "
    "the workflow and the task inside; JPG and WEBP get a sidecar JSON.",
    inputs=(InputPort("image", PortType.IMAGE, help="The image(s) to save; all results of a batch are saved."),),
    params=(
        Param("folder", Kind.STRING, default="", help="Sub-folder of the run's output directory ('' for none)."),
        Param(
            "filename",
            Kind.STRING,
            default="{workflow}-{seed}-{index}",
            help="File-name pattern with tokens "
            + " ".join(f"{{{t}}}" for t in FILENAME_TOKENS)
            + "; the extension follows the image format.",
        ),
    ),
    summary=("folder", "filename"),
    is_output=True,
    check=_check_save,
    compile=_compile_save,
)


def _compile_preview(ctx: NodeCompileContext) -> dict[str, Any]:
    ctx.add_output("preview", ctx.input("image"), {"title": ctx.title})
    return {}


PREVIEW_IMAGE = NodeType(
    id="preview_image",
    title="Preview Image",
    category="Images",
    description="Shows the images it receives (a thumbnail in the editor) and keeps them in the run's "
    "temporary folder instead of the outputs.",
    inputs=(InputPort("image", PortType.IMAGE),),
    is_output=True,
    compile=_compile_preview,
)

NODE_TYPES = (LOAD_IMAGE, SAVE_IMAGE, PREVIEW_IMAGE)
