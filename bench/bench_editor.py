"""Editor benchmark: open a generated 1,000-node workflow, time the first paint, then a scripted pan and zoom.

Prints figures, asserts nothing (goals: first paint under 1 s, frames under 16 ms).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_editor.py [--nodes 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def generated_workflow(chains: int):  # type: ignore[no-untyped-def]
    """`chains` text-to-image chains of 5 nodes (model, prompt, negative, inference, save): 5 x chains nodes."""
    from graph_runtime.builder import WorkflowBuilder

    b = WorkflowBuilder("bench")
    per_row = 10
    for i in range(chains):
        x0, y0 = (i % per_row) * 1100.0, (i // per_row) * 520.0
        m = b.node(f"m{i}", "model", x0, y0, model="runware:101@1")
        p = b.node(f"p{i}", "prompt", x0, y0 + 150, text=f"a lighthouse at dusk, variation {i}")
        n = b.node(f"n{i}", "prompt", x0, y0 + 300, text="blurry")
        inf = b.node(f"i{i}", "image_inference", x0 + 330, y0, width=1024, height=1024, steps=20, seed=i + 1)
        s = b.node(f"s{i}", "save_image", x0 + 660, y0)
        b.link(m, "model", inf, "model")
        b.link(p, "text", inf, "positive")
        b.link(n, "text", inf, "negative")
        b.link(inf, "image", s, "image")
    return b.build()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("LOOMWARE_DATA_DIR", tempfile.mkdtemp(prefix="loomware-bench-"))

    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from app.editor.main_window import MainWindow
    from app.editor.theme import apply_dark_palette
    from graph_runtime.document import save

    app.setStyle("Fusion")
    apply_dark_palette(app)
    workflow = generated_workflow(max(1, args.nodes // 5))
    path = Path(tempfile.mkdtemp(prefix="loomware-bench-")) / "bench.json"
    save(workflow, path)
    print(f"workflow: {len(workflow.nodes)} nodes, {len(workflow.links)} links")

    t0 = time.perf_counter()
    window = MainWindow(path)
    window.resize(1600, 1000)
    window.show()
    t_built = time.perf_counter()
    window.view.fit_all()
    window.view.viewport().repaint()  # a synchronous paint of the whole graph
    app.processEvents()
    t_paint = time.perf_counter()
    print(f"open + build scene:        {1000 * (t_built - t0):8.1f} ms")
    print(f"time to first paint:       {1000 * (t_paint - t0):8.1f} ms   (goal < 1000 ms)")

    view = window.view
    viewport = view.viewport()

    def frames(label: str, step) -> None:  # type: ignore[no-untyped-def]
        times = []
        for i in range(args.frames):
            step(i)
            start = time.perf_counter()
            viewport.repaint()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"{label:26} mean {statistics.mean(times):6.2f} ms   p95 {p95:6.2f} ms   max {max(times):6.2f} ms   "
            f"zoom {view.zoom():.2f}"
        )

    view.fit_all()
    frames("pan, whole graph (LOD):", lambda i: view.pan_by(12, 7 if i % 2 else -7))
    frames("zoom in/out, whole graph:", lambda i: view.zoom_by(1.05 if (i // 15) % 2 == 0 else 1 / 1.05))
    view.resetTransform()
    view.centerOn(2000, 1500)
    frames("pan at 100% zoom:", lambda i: view.pan_by(15, 9 if i % 2 else -9))
    frames("zoom around 100%:", lambda i: view.zoom_by(1.04 if (i // 15) % 2 == 0 else 1 / 1.04))

    t = time.perf_counter()
    window.revalidate()
    print(f"validate {len(workflow.nodes)} nodes:        {1000 * (time.perf_counter() - t):8.1f} ms")
    window.scene.select_nodes(list(workflow.nodes))
    t = time.perf_counter()
    window.auto_layout()
    print(f"auto-layout (undoable):    {1000 * (time.perf_counter() - t):8.1f} ms")
    t = time.perf_counter()
    window.stack.undo()
    print(f"undo auto-layout:          {1000 * (time.perf_counter() - t):8.1f} ms")
    window.ask_save_changes = lambda: "discard"  # type: ignore[method-assign]
    window.close()


if __name__ == "__main__":
    main()
