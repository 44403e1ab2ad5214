"""Local engine figures on the tiny demo models: engine overhead, LoRA weight changes, server throughput.

    python bench/bench_local_engine.py [--threads 2] [--runs 15]

Prints figures and the goals they are read against; never asserts (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


def paired_medians(a: Callable[[], Any], b: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median times of a and b, run alternately so that load from other processes hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, out in ((a, times[0]), (b, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def task(**fields: Any) -> dict[str, Any]:
    from graph_runtime.backends.local.demo_models import SD15

    return {
        "taskType": "imageInference",
        "taskUUID": str(uuid.uuid4()),
        "model": SD15,
        "positivePrompt": "a lighthouse on a cliff",
        "negativePrompt": "blurry",
        "width": 128,
        "height": 128,
        "steps": 20,
        "CFGScale": 7,
        "seed": 1,
        **fields,
    }


def bench_overhead(catalog: Any, runs: int) -> None:
    import torch
    from diffusers import DiffusionPipeline

    from graph_runtime.backends.local.backend import LocalBackend

    engine = LocalBackend(catalog, device="cpu", dtype="float32")
    loop = asyncio.new_event_loop()
    folder = catalog.resolve(task()["model"], "checkpoint")[1]
    pipe = DiffusionPipeline.from_pretrained(folder, dtype=torch.float32, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    torch.set_flush_denormal(True)  # the engine does this on CPU; the direct call gets the same footing

    for size, steps in ((64, 4), (128, 20)):

        def direct(size: int = size, steps: int = steps) -> None:
            pipe(
                "a lighthouse on a cliff", negative_prompt="blurry", height=size, width=size,
                num_inference_steps=steps, guidance_scale=7, generator=torch.Generator("cpu").manual_seed(1),
            )  # fmt: skip

        def via_engine(size: int = size, steps: int = steps) -> None:
            result = loop.run_until_complete(engine.submit([task(width=size, height=size, steps=steps)]))
            assert not result.errors, result.errors

        direct(), via_engine()  # warm both
        d, e = paired_medians(direct, via_engine, runs)
        print(f"overhead {size}px {steps} steps: direct {d * 1000:.1f} ms, engine {e * 1000:.1f} ms, "
              f"ratio {e / d:.3f} (goal <= 1.05 warm; the engine also encodes and stores a JPG)")  # fmt: skip
    loop.run_until_complete(engine.aclose())
    loop.close()


def bench_lora_switch(catalog: Any) -> None:
    from graph_runtime.backends.local.backend import LocalBackend
    from graph_runtime.backends.local.demo_models import LORA_1, LORA_2, SD15

    loop = asyncio.new_event_loop()
    engine = LocalBackend(catalog, device="cpu", dtype="float32")

    def run(w1: float, w2: float) -> None:
        loras = [{"model": LORA_1, "weight": w1}, {"model": LORA_2, "weight": w2}]
        result = loop.run_until_complete(engine.submit([task(width=64, height=64, steps=4, lora=loras)]))
        assert not result.errors, result.errors

    cold = timed(lambda: run(0.8, 0.5))  # loads the base model and both LoRAs
    same, changed = paired_medians(lambda: run(0.8, 0.5), lambda: run(0.3, 1.2), 7)
    print(f"lora (64 px, 4 steps, 2 LoRAs): cold task {cold:.2f} s; warm task with the same weights {same:.3f} s; "
          f"task changing only the weights {changed:.3f} s = {changed / cold:.1%} of cold (goal < 10%); "
          f"switching cost {max(changed - same, 0) * 1000:.0f} ms; base model loads {engine.models.load_counts[SD15]}, "
          f"LoRA loads {engine.models.adapter_loads[LORA_1]}")  # fmt: skip
    loop.run_until_complete(engine.aclose())
    loop.close()


def bench_server(catalog: Any, clients: int) -> None:
    import httpx

    from graph_runtime.backends.local.backend import LocalBackend
    from graph_runtime.backends.local.server import create_app
    from tests.loopback import ServerThread

    engine = LocalBackend(catalog, device="cpu", dtype="float32")
    server = ServerThread(create_app(engine)).start()
    url = f"{server.url}/v1"

    async def run() -> tuple[list[int], float]:
        async with httpx.AsyncClient(timeout=600) as client:
            await client.post(url, json=[task(width=64, height=64, steps=4)])  # load the model first
            start = time.perf_counter()
            calls = [client.post(url, json=[task(width=64, height=64, steps=4, seed=i + 1)]) for i in range(clients)]
            responses = await asyncio.gather(*calls, return_exceptions=True)
            codes = [r.status_code if isinstance(r, httpx.Response) else -1 for r in responses]
            return codes, time.perf_counter() - start

    codes, elapsed = asyncio.run(run())
    ok = codes.count(200)
    print(f"server: {clients} concurrent clients, {ok} answered 200, {clients - ok} failed or dropped, "
          f"{elapsed:.2f} s total, {ok / elapsed:.1f} images/s (64 px, 4 steps, one inference at a time)")  # fmt: skip
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    import torch

    from graph_runtime.backends.local.catalog import Catalog
    from graph_runtime.backends.local.demo_models import init_demo

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(Path(tmp) / "models")
        start = time.perf_counter()
        init_demo(catalog)
        print(f"demo models built in {time.perf_counter() - start:.1f} s; torch threads {args.threads}")
        bench_overhead(catalog, args.runs)
        bench_lora_switch(catalog)
        bench_server(catalog, args.clients)


if __name__ == "__main__":
    main()
