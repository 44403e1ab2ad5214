"""Workflow builders for executor tests and benchmarks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graph_runtime.document import Workflow, loads

MODEL = "civitai:4384@128713"
CONTROLNET = "runware:25@1"
SOURCE_URL = "https://example.com/reference.png"  # the test server accepts URL image refs without fetching


class Graph:
    def __init__(self, name: str = "test") -> None:
        self.name = name
        self.nodes: dict[str, Any] = {}
        self.links: list[dict[str, Any]] = []

    def node(self, node_id: str, node_type: str, **params: Any) -> str:
        self.nodes[node_id] = {"type": node_type, "params": params}
        return node_id

    def link(self, src: str, output: str, dst: str, input_name: str) -> None:
        self.links.append({"id": f"{src}.{output}-{dst}.{input_name}", "from": {"node": src, "output": output},
                           "to": {"node": dst, "input": input_name}})  # fmt: skip

    def to_json(self) -> str:
        return json.dumps({"schema_version": 1, "metadata": {"name": self.name}, "nodes": self.nodes,
                           "links": self.links})  # fmt: skip

    def workflow(self) -> Workflow:
        return loads(self.to_json())

    def save(self, path: Path) -> Path:
        path.write_text(self.to_json())
        return path

    # -- common pieces -------------------------------------------------------------------------------------
    def base(self, model: str = MODEL) -> None:
        if "model" not in self.nodes:
            self.node("model", "model", model=model, architecture="sd1.5")

    def inference(self, node_id: str, prompt: str, *, seed: int | None = 7, **params: Any) -> str:
        self.base()
        p = self.node(f"{node_id}_prompt", "prompt", text=prompt)
        params = {"width": 512, "height": 512, "steps": 4, **params}
        if seed is not None:
            params["seed"] = seed
        self.node(node_id, "image_inference", **params)
        self.link("model", "model", node_id, "model")
        self.link(p, "text", node_id, "positive")
        return node_id

    def save_image(self, node_id: str, src: str, output: str = "image", **params: Any) -> str:
        self.node(node_id, "save_image", **params)
        self.link(src, output, node_id, "image")
        return node_id

    def preview(self, node_id: str, src: str, output: str = "image") -> str:
        self.node(node_id, "preview_image")
        self.link(src, output, node_id, "image")
        return node_id


def text_to_image(prompt: str = "a lighthouse at dusk", *, seed: int | None = 7, **params: Any) -> Graph:
    g = Graph("t2i")
    g.inference("infer", prompt, seed=seed, **params)
    g.save_image("save", "infer")
    return g


def branches(count: int, *, prompt: str = "branch {i}", fail: set[int] | None = None) -> Graph:
    """`count` independent branches of preprocess -> inference -> save (the source is a URL: no upload)."""
    g = Graph("branches")
    for i in range(count):
        g.node(f"src{i}", "load_image", url=f"{SOURCE_URL}?{i}")
        g.node(f"pre{i}", "controlnet_preprocess", preProcessorType="canny")
        g.link(f"src{i}", "image", f"pre{i}", "image")
        g.node(f"cn{i}", "controlnet", model=CONTROLNET, weight=0.8)
        g.link(f"pre{i}", "guide", f"cn{i}", "guide_image")
        text = prompt.format(i=i) + (" FAIL" if fail and i in fail else "")
        g.inference(f"infer{i}", text, seed=100 + i)
        g.link(f"cn{i}", "controlnet", f"infer{i}", "controlnets")
        g.save_image(f"save{i}", f"infer{i}")
    return g


def chain(length: int) -> Graph:
    """`length` image-to-image inferences, each feeding the next, then a save."""
    g = Graph("chain")
    prev = g.inference("step0", "chain start", seed=1)
    for i in range(1, length):
        cur = g.inference(f"step{i}", f"chain step {i}", seed=1 + i, strength=0.5)
        g.link(prev, "image", cur, "seed_image")
        prev = cur
    g.save_image("save", prev)
    return g
