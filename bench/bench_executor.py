"""Executor benchmarks: prints figures, asserts nothing.

    .venv/bin/python bench/bench_executor.py [--latency 0.2] [--tasks 1000]

1. Against a loopback Runware-compatible server (tests/executor/fake_runware.py in its own process) that answers
   each request after a fixed latency L, handling requests concurrently: 8 independent branches of
   preprocess -> inference -> save, and a 20-node chain. Figure: wall time of `run_workflow` (compile, requests,
   downloads, file writes, report) / (critical-path tasks x L); the goal is <= 1.10. "warm" reuses one client
   across runs as the editor does; "cold" builds the client inside the run as `loomware run` does.
2. Executor overhead per task with L = 0 for N independent tasks (goal < 2 ms): through an in-process backend that
   answers at once (the scheduler, reference resolution, cache and file writing only), and through the
   loopback HTTP server (adds JSON and HTTP), with images inline in the answers (the default) and by URL.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "executor")]

from executor_graphs import Graph, branches, chain  # noqa: E402
from fake_runware import FakeRunware, tiny_image  # noqa: E402

from graph_runtime.backends.base import Backend, BatchResult, JsonDict  # noqa: E402
from graph_runtime.backends.runware import RunwareBackend  # noqa: E402
from graph_runtime.compile import compile_workflow  # noqa: E402
from graph_runtime.execute import ExecOptions, Executor  # noqa: E402
from graph_runtime.outputs import OutputWriter, StagedImage  # noqa: E402
from graph_runtime.run import RunOptions, run_workflow  # noqa: E402

PNG_B64 = base64.b64encode(tiny_image(1, "PNG")).decode()


class InstantBackend(Backend):
    """Answers every task at once with one tiny base64 PNG: what remains is the executor's own cost."""

    name = "instant"

    async def submit(self, tasks: list[JsonDict]) -> BatchResult:
        return BatchResult(items=[{"taskType": t["taskType"], "taskUUID": t["taskUUID"], "imageUUID": t["taskUUID"],
                                   "imageBase64Data": PNG_B64, "seed": t.get("seed", 1)} for t in tasks])  # fmt: skip

    async def poll(self, task_uuids: list[str]) -> BatchResult:
        return BatchResult()


def independent(n: int) -> Graph:
    graph = Graph("many")
    for i in range(n):
        graph.inference(f"infer{i}", f"image number {i}", seed=i + 1)
        graph.save_image(f"save{i}", f"infer{i}")
    return graph


KEY = FakeRunware().api_key


@contextmanager
def server_process(latency: float) -> Iterator[str]:
    script = REPO / "tests" / "executor" / "fake_runware.py"
    proc = subprocess.Popen([sys.executable, str(script), str(latency)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        time.sleep(0.3)  # let uvicorn start listening
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def latency_ratio(url: str, graph: Graph, critical: int, latency: float, repeats: int, warm: bool) -> list[float]:
    ratios = []
    backend = RunwareBackend(KEY, url) if warm else None
    if backend is not None:  # the editor keeps one client: connect once before timing
        await run_workflow(graph.workflow(), base_dir=REPO, options=RunOptions(backend=url, api_key=KEY,
                           out_dir=Path(tempfile.mkdtemp()), use_cache=False), backend=backend)  # fmt: skip
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            opts = RunOptions(backend=url, api_key=KEY, out_dir=Path(tmp), use_cache=False)
            start = time.perf_counter()
            report = await run_workflow(graph.workflow(), base_dir=Path(tmp), options=opts, backend=backend)
            wall = time.perf_counter() - start
            assert report.status == "ok", report.errors
            ratios.append(wall / (critical * latency))
    if backend is not None:
        await backend.aclose()
    return ratios


class NullWriter(OutputWriter):
    """Writes nothing: isolates the scheduler from the disk (each saved file costs an fsync)."""

    def stage(self, output: Any, index: int, data: bytes, *, seed: int | None, task: JsonDict | None) -> StagedImage:
        return StagedImage(self.out_dir, f"{output.node_id}-{index}", "png", self.out_dir / "nothing")

    def commit(self, staged: StagedImage) -> Path:
        return staged.folder / staged.stem


async def overhead(
    backend: Backend, n: int, *, use_cache: bool, batch_size: int = 16, write: bool = True, inline: bool = True
) -> tuple[float, float]:
    graph = independent(n).workflow()
    t0 = time.perf_counter()
    plan = compile_workflow(graph)
    compile_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        from datetime import datetime

        from graph_runtime.cache import ResultCache

        cls = OutputWriter if write else NullWriter
        writer = cls(Path(tmp), "bench", workflow_name="many", workflow_text=None, started=datetime.now())
        cache = ResultCache(Path(tmp) / "cache") if use_cache else None
        opts = ExecOptions(batch_size=batch_size, use_cache=use_cache, async_threshold=None, inline_images=inline)
        start = time.perf_counter()
        result = await Executor(plan, backend, writer=writer, options=opts, cache=cache).run()
        wall = time.perf_counter() - start
        assert not result.failed and len(result.files) == n
    return wall / n * 1000, compile_s


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("LOOMWARE_CACHE_DIR", tempfile.mkdtemp(prefix="loomware-bench-"))

    L = args.latency
    print(f"loopback server process, L = {L * 1000:.0f} ms per request, {args.repeats} runs each (median, best)")
    with server_process(L) as url:
        for label, graph, critical in (
            ("8 branches preprocess->inference->save", branches(8), 2),
            ("20-node chain", chain(20), 20),
        ):
            for warm in (True, False):
                ratios = await latency_ratio(url, graph, critical, L, args.repeats, warm)
                print(f"  {label:<40} {'warm' if warm else 'cold'}  wall/(critical x L) = "
                      f"{statistics.median(ratios):.3f} (best {min(ratios):.3f})  [goal <= 1.10]")  # fmt: skip

    n = args.tasks
    per_task, compile_s = await overhead(InstantBackend(), n, use_cache=False)
    print(f"executor overhead, {n} independent tasks, L = 0 (compile {compile_s:.2f} s not counted):")
    print(f"  in-process instant backend, cache off, files written    {per_task:.3f} ms/task  [goal < 2 ms]")
    per_task, _ = await overhead(InstantBackend(), n, use_cache=False, write=False)
    print(f"  in-process instant backend, cache off, no file writes   {per_task:.3f} ms/task")
    per_task, _ = await overhead(InstantBackend(), n, use_cache=True)
    print(f"  in-process instant backend, cache on, files written     {per_task:.3f} ms/task  [goal < 2 ms]")
    with server_process(0.0) as url:
        async with RunwareBackend(KEY, url) as http:
            per_task, _ = await overhead(http, n, use_cache=False)
            url_per_task, _ = await overhead(http, n, use_cache=False, inline=False)
    print(f"  loopback HTTP server (JSON, images inline), files       {per_task:.3f} ms/task")
    print(f"  loopback HTTP server (JSON, URL downloads), files       {url_per_task:.3f} ms/task")


if __name__ == "__main__":
    asyncio.run(main())
