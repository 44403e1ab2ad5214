"""Validate + compile time for generated graphs of 100, 1,000 and 10,000 nodes.

Run: .venv/bin/python bench/bench_compile.py
Goal: 10,000 nodes in under 1 s, and near-linear growth (10,000/1,000 ratio under 12).
Prints figures; asserts nothing (machines here are shared and noisy: compare ratios from one run).
"""

from __future__ import annotations

import time

from graph_runtime.builder import WorkflowBuilder
from graph_runtime.compile import compile_workflow
from graph_runtime.document import Workflow
from graph_runtime.validate import validate


def generate(n_nodes: int) -> Workflow:
    """Units of 8 nodes (model, 2 prompts, 2 LoRAs, inference, a second image-to-image pass, save)."""
    b = WorkflowBuilder(f"bench-{n_nodes}")
    for u in range(n_nodes // 8):
        p = f"u{u}"
        b.node(f"{p}m", "model", model="civitai:4384@128713", architecture="sd1.5")
        b.node(f"{p}pos", "prompt", text=f"a lighthouse number {u} at dusk")
        b.node(f"{p}neg", "prompt", text="blurry, low quality")
        b.node(f"{p}l1", "lora", model="civitai:1@1", weight=0.5)
        b.node(f"{p}l2", "lora", model="civitai:2@1", weight=-0.5)
        b.node(f"{p}i", "image_inference", width=512, height=512, steps=25, seed=u + 1)
        b.node(f"{p}i2", "image_inference", width=512, height=512, steps=30, strength=0.5)
        b.node(f"{p}s", "save_image")
        b.link(f"{p}m", "model", f"{p}i", "model")
        b.link(f"{p}pos", "text", f"{p}i", "positive")
        b.link(f"{p}neg", "text", f"{p}i", "negative")
        b.link(f"{p}l1", "lora", f"{p}i", "loras")
        b.link(f"{p}l2", "lora", f"{p}i", "loras")
        b.link(f"{p}m", "model", f"{p}i2", "model")
        b.link(f"{p}pos", "text", f"{p}i2", "positive")
        b.link(f"{p}i", "image", f"{p}i2", "seed_image")
        b.link(f"{p}i2", "image", f"{p}s", "image")
    return b.build()


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    results: dict[int, float] = {}
    for n in (100, 1_000, 10_000):
        workflow = generate(n)

        def once(wf: Workflow = workflow) -> None:
            assert not [d for d in validate(wf) if d.severity == "error"]
            compile_workflow(wf, check=False)

        results[n] = best_of(5 if n < 10_000 else 3, once)
        print(f"{len(workflow.nodes):>6} nodes, {len(workflow.links):>6} links: validate+compile {results[n]:.3f} s")
    print(f"10,000 / 1,000 ratio: {results[10_000] / results[1_000]:.1f} (goal < 12; 10,000 nodes goal < 1 s)")


if __name__ == "__main__":
    main()
