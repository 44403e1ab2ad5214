"""The executor's fast paths: images inline in the answer, disk work in worker threads (never overwriting, never
half-written), cache writes per request, the deferred workflow text and the lazily loaded TLS trust store."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import certifi
import executor_graphs as g
import pytest
from conftest import FAST_RETRY, Run
from fake_runware import FakeRunware, tiny_image

from graph_runtime.backends import runware
from graph_runtime.backends.runware import RunwareBackend
from graph_runtime.cache import ResultCache
from graph_runtime.compile import compile_workflow
from graph_runtime.document import dumps
from graph_runtime.execute import ExecOptions, Executor
from graph_runtime.outputs import OutputWriter
from graph_runtime.plan import PlannedOutput
from graph_runtime.png_metadata import read_embedded_task, sidecar_text
from graph_runtime.run import seeded_workflow_text


def writer(out: Path, workflow_text: str | None = '{"x": 1}\n') -> OutputWriter:
    return OutputWriter(out, "run1", workflow_name="flow", workflow_text=workflow_text, started=datetime(2025, 1, 2))


def temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------------------------- transport


async def test_images_come_inline_and_the_plan_is_unchanged(run: Run, fake: FakeRunware, tmp_path: Path):
    workflow = g.branches(2).workflow()
    report = await run(workflow, use_cache=False)
    assert report.status == "ok" and len(report.files) == 2
    assert fake.downloads == 0  # no round trip after the answer
    by_type = {t["taskType"]: t for t in fake.work_tasks()}
    assert by_type["imageInference"]["outputType"] == "base64Data"  # saved: worth sending inline
    assert "outputType" not in by_type["imageControlNetPreProcess"]  # only referenced by UUID: no bytes needed
    assert all("outputType" not in t.payload for t in compile_workflow(workflow).tasks)
    assert read_embedded_task(report.files[0])["outputType"] == "base64Data"  # the task exactly as sent

    await run(workflow)  # cache on: every cached image is needed, so every task asks for it inline
    assert all(t["outputType"] == "base64Data" for t in fake.work_tasks()[4:])
    assert fake.downloads == 0


async def test_the_transport_is_not_part_of_the_cache_signature(run: Run, fake: FakeRunware):
    workflow = g.text_to_image().workflow()
    await run(workflow, inline_images=False)
    assert fake.downloads == 1 and "outputType" not in fake.work_tasks()[0]
    attempts = fake.attempts
    second = await run(workflow)  # inline now: same signature, so a cache hit
    assert fake.attempts == attempts and second.status == "ok" and len(second.files) == 1


async def test_an_output_type_set_in_the_task_is_kept(fake: FakeRunware, tmp_path: Path):
    plan = compile_workflow(g.text_to_image().workflow())
    plan.tasks[0].payload["outputType"] = "URL"
    async with RunwareBackend(fake.api_key, fake.url, retry=FAST_RETRY) as backend:
        result = await Executor(plan, backend, writer=writer(tmp_path), options=ExecOptions(use_cache=False)).run()
    assert not result.failed and len(result.files) == 1
    assert fake.work_tasks()[0]["outputType"] == "URL" and fake.downloads == 1


async def test_an_inline_image_over_the_cap_fails_only_its_output(run: Run, fake: FakeRunware):
    report = await run(g.text_to_image().workflow(), max_image_bytes=16, use_cache=False)
    assert report.status == "failed" and report.files == []
    [failed] = run.of("node_failed")
    assert failed.node_id == "save" and failed.data["code"] == "imageTooLarge"
    assert {t.node: t.status for t in report.tasks}["infer"] == "ok"


# ---------------------------------------------------------------------------------------------- disk


def test_concurrent_writers_never_overwrite(tmp_path: Path):
    out = PlannedOutput("save", "save", "x", {"filename": "same"})
    (tmp_path / "same.jpg").write_bytes(b"precious")
    w = writer(tmp_path)
    images = [tiny_image(i, "JPG") for i in range(24)]
    paths: list[Path] = []
    lock = threading.Lock()
    start = threading.Barrier(len(images))

    def write(data: bytes) -> None:
        start.wait()
        path = w.write(out, 0, data, seed=1, task={"taskType": "imageInference"})
        with lock:
            paths.append(path)

    threads = [threading.Thread(target=write, args=(data,)) for data in images]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (tmp_path / "same.jpg").read_bytes() == b"precious"
    assert len(set(paths)) == len(images)
    assert sorted(p.read_bytes() for p in paths) == sorted(images)  # each file whole, none replaced
    assert all(Path(f"{p}.json").is_file() for p in paths)
    assert temporaries(tmp_path) == []


def test_staged_images_are_named_in_commit_order(tmp_path: Path):
    w = writer(tmp_path)
    out = PlannedOutput("save", "save", "x", {"filename": "same"})
    staged = [w.stage(out, i, tiny_image(i, "PNG"), seed=i, task=None) for i in range(3)]
    assert not list(tmp_path.glob("same*"))  # nothing is visible under a real name before commit
    assert [w.commit(s).name for s in reversed(staged)] == ["same.png", "same-1.png", "same-2.png"]
    assert temporaries(tmp_path) == []


def test_sidecar_matches_png_metadata_sidecar_text(tmp_path: Path):
    text = dumps(g.branches(1).workflow())
    w = writer(tmp_path, text)
    task = {"taskType": "imageInference", "controlNet": [{"guideImage": "abc", "weight": 0.8}], "prompt": "ü"}
    path = w.write(PlannedOutput("save", "save", "x"), 0, tiny_image(1, "JPG"), seed=3, task=task)
    assert Path(f"{path}.json").read_text(encoding="utf-8") == sidecar_text(text, task)
    assert w._sidecar_text(None) == sidecar_text(text, None)


async def test_multi_image_output_keeps_index_order_and_events(run: Run, fake: FakeRunware, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "fixed.jpg").write_bytes(b"precious")
    graph = g.text_to_image(numberResults=4)
    graph.nodes["save"]["params"] = {"filename": "fixed"}
    report = await run(graph.workflow(), use_cache=False)
    assert report.status == "ok"
    assert [p.name for p in report.files] == ["fixed-1.jpg", "fixed-2.jpg", "fixed-3.jpg", "fixed-4.jpg"]
    assert [p.read_bytes() for p in report.files] == [tiny_image(7 + i, "JPG") for i in range(4)]
    assert (out / "fixed.jpg").read_bytes() == b"precious"
    assert run.kinds("save") == ["node_queued", "node_started"] + ["image_saved"] * 4 + ["node_finished"]
    assert [e.data["index"] for e in run.of("image_saved", "save")] == [0, 1, 2, 3]
    assert temporaries(tmp_path) == []


async def test_disk_work_runs_in_worker_threads(fake: FakeRunware, tmp_path: Path):
    seen: list[str] = []

    class Recording(OutputWriter):
        def stage(self, *args: Any, **kwargs: Any) -> Any:
            seen.append(threading.current_thread().name)
            return super().stage(*args, **kwargs)

    w = Recording(tmp_path, "run1", workflow_name="flow", workflow_text=None, started=datetime.now())
    plan = compile_workflow(g.branches(3).workflow())
    async with RunwareBackend(fake.api_key, fake.url, retry=FAST_RETRY) as backend:
        cache = ResultCache(tmp_path / "cache")
        result = await Executor(plan, backend, writer=w, options=ExecOptions(), cache=cache).run()
    assert not result.failed and len(result.files) == 3
    assert seen and all(name.startswith("loomware-io") for name in seen)


# ---------------------------------------------------------------------------------------------- cache


async def test_results_of_one_request_are_cached_in_one_call(
    run: Run, fake: FakeRunware, monkeypatch: pytest.MonkeyPatch
):
    calls: list[int] = []
    put_many = ResultCache.put_many

    def record(self: ResultCache, entries: Any) -> int:
        entries = list(entries)
        calls.append(len(entries))
        return put_many(self, entries)

    monkeypatch.setattr(ResultCache, "put_many", record)
    await run(g.branches(4).workflow())
    assert calls == [4, 4]  # the preprocess request, then the inference request
    attempts = fake.attempts
    again = await run(g.branches(4).workflow())
    assert fake.attempts == attempts and len(again.files) == 4


def test_put_many_shares_one_file_and_skips_an_entry_it_cannot_store(tmp_path: Path):
    cache = ResultCache(tmp_path)
    good = ("a" * 64, [{"imageUUID": "u1", "imageBase64Data": "AAAA"}], {(0, "image"): b"one"})
    bad = ("b" * 64, [{"imageUUID": object()}], {})  # not JSON
    also = ("c" * 64, [{"imageUUID": "u3"}], {(0, "image"): b"three"})
    assert cache.put_many([good, bad, also]) == 2
    assert cache.get("b" * 64) is None
    a, c = cache.get("a" * 64), cache.get("c" * 64)
    assert a is not None and a.items == [{"imageUUID": "u1"}] and a.image_bytes(0, "image") == b"one"
    assert c is not None and c.image_bytes(0, "image") == b"three"
    assert cache._entry("a" * 64).stat().st_ino == cache._entry("c" * 64).stat().st_ino  # one file, two names
    assert temporaries(tmp_path) == []
    cache.put("a" * 64, [{"imageUUID": "new"}], {})  # replacing one name leaves the other entry as it was
    assert cache.get("a" * 64).items == [{"imageUUID": "new"}] and cache.get("c" * 64) is not None


def test_put_many_without_hard_links_writes_each_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def no_links(*args: Any, **kwargs: Any) -> None:
        raise PermissionError("no hard links on this file system")

    monkeypatch.setattr("graph_runtime.cache.os.link", no_links)
    cache = ResultCache(tmp_path)
    assert cache.put_many([(s * 64, [{"imageUUID": s}], {}) for s in "abc"]) == 3
    assert [cache.get(s * 64).items for s in "abc"] == [[{"imageUUID": s}] for s in "abc"]
    assert temporaries(tmp_path) == []


# ---------------------------------------------------------------------------------------------- run


def test_deferred_workflow_text_is_dumps_of_the_seeded_workflow():
    workflow = g.text_to_image(seed=None).workflow()
    plan = compile_workflow(workflow)
    drawn = {plan.tasks[0].uuid: 12345}
    text = seeded_workflow_text(workflow, plan, drawn)
    expected = workflow.model_copy(deep=True)
    expected.nodes["infer"].params["seed"] = 12345
    workflow.nodes["infer"].params["steps"] = 30  # edits after the run started do not leak into its images
    assert text() == dumps(expected)
    assert json.loads(text())["nodes"]["infer"]["params"]["seed"] == 12345


# ---------------------------------------------------------------------------------------------- client


def test_trust_store_is_loaded_on_first_handshake_only():
    ctx = runware._DeferredTrustContext(certifi.where())
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] == 0
    ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="example.com")
    assert ctx.cert_store_stats()["x509_ca"] > 0


async def test_plain_http_client_never_loads_the_trust_store(fake: FakeRunware):
    runware._trust_context.cache_clear()
    try:
        async with RunwareBackend(fake.api_key, fake.url, retry=FAST_RETRY) as backend:
            assert (await backend.submit([{"taskType": "imageInference", "taskUUID": "x"}])).errors
        assert not runware.default_tls_context()._loaded
        await RunwareBackend("key").aclose()  # https: loading starts at once, in a thread
        deadline = time.monotonic() + 10
        while not runware.default_tls_context()._loaded and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert runware.default_tls_context()._loaded
    finally:
        runware._trust_context.cache_clear()


async def test_httpcore_still_detects_asyncio():
    from httpcore._synchronization import current_async_library

    assert current_async_library() == "asyncio"
