"""The executor end to end against the loopback API server: batching, fan-out, failures, cache, cancel, events."""

from __future__ import annotations

import json
from pathlib import Path

import executor_graphs as g
import pytest
from conftest import Run
from fake_runware import FakeRunware, Fault

from graph_runtime.backends.runware import RetryPolicy
from graph_runtime.document import load
from graph_runtime.events import CancelToken, EventKind
from graph_runtime.overrides import apply_overrides
from graph_runtime.png_metadata import read_embedded_task, read_embedded_workflow
from nodes import REGISTRY

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


async def test_ready_tasks_share_a_request_and_branches_overlap(run: Run, fake: FakeRunware):
    report = await run(g.branches(8).workflow())
    assert report.status == "ok" and report.exit_code == 0
    assert len(fake.requests) == 2  # 8 preprocesses together, then 8 inferences together
    assert [len(body) for body in fake.requests] == [8, 8]
    assert {t["taskType"] for t in fake.requests[0]} == {"imageControlNetPreProcess"}
    assert len(report.files) == 8 and all(p.is_file() for p in report.files)
    assert report.total_cost == pytest.approx(16 * 0.0025)
    assert run.kinds()[0] == "run_started" and run.kinds()[-1] == "run_finished"
    assert run.kinds("infer3") == ["node_queued", "node_started", "cost", "node_finished"]
    saved = run.of("node_finished", "save3")[0]
    assert saved.data["images"] == [str(p) for p in report.files if "103" in p.name]
    assert run.of("run_finished")[0].data["report"] == str(report.report_path)


async def test_batch_size_bounds_a_request(run: Run, fake: FakeRunware):
    await run(g.branches(5).workflow(), batch_size=2, concurrency=8)
    assert max(len(body) for body in fake.requests) == 2
    assert fake.task_counts() == {"imageControlNetPreProcess": 5, "imageInference": 5}


async def test_references_resolve_to_results(run: Run, fake: FakeRunware):
    await run(g.branches(1).workflow())
    pre, infer = fake.requests[0][0], fake.requests[1][0]
    guide = infer["controlNet"][0]["guideImage"]
    assert guide in fake.images and guide != pre["inputImage"]
    assert infer["includeCost"] is True and "deliveryMethod" not in infer


async def test_a_failed_branch_does_not_stop_the_others(run: Run, fake: FakeRunware):
    report = await run(g.branches(3, fail={1}).workflow())
    assert report.status == "failed" and report.exit_code == 1
    assert len(report.files) == 2
    [failed] = run.of("node_failed")
    assert failed.node_id == "infer1" and failed.data["code"] == "inferenceFailed"
    assert run.of("node_skipped", "save1")[0].data == {"reason": "upstream failed", "upstream": "infer1"}
    assert report.errors[0]["node"] == "infer1"
    statuses = {t.node: t.status for t in report.tasks}
    assert statuses["infer1"] == "failed" and statuses["infer0"] == "ok"


async def test_fan_out_runs_the_downstream_task_once_per_image(run: Run, fake: FakeRunware):
    graph = g.Graph("fan")
    graph.inference("first", "four variations", seed=10, numberResults=3)
    graph.inference("second", "refine each", seed=99, strength=0.4)
    graph.link("first", "image", "second", "seed_image")
    graph.save_image("save", "second")
    graph.preview("peek", "first")
    report = await run(graph.workflow())
    assert report.status == "ok"
    second = [t for t in fake.tasks if t.get("positivePrompt") == "refine each"]
    assert len(second) == 3 and len({t["taskUUID"] for t in second}) == 3
    firsts = [item for item in fake.tasks if item.get("positivePrompt") == "four variations"]
    assert {t["seedImage"] for t in second} <= set(fake.images) and len(firsts) == 1
    assert len(fake.requests[1]) == 3  # the copies share one request
    assert len(report.files) == 3 and len(report.previews["peek"]) == 3
    assert all(".previews" in str(p) for p in report.previews["peek"])
    assert report.seeds["first"] == [10, 11, 12]
    copies = [t for t in report.tasks if t.node == "second"]
    assert sum(t.copy_of is not None for t in copies) == 2


async def test_unchanged_rerun_sends_nothing_and_resaves(run: Run, fake: FakeRunware):
    workflow = g.branches(2).workflow()
    first = await run(workflow)
    attempts, downloads = fake.attempts, fake.downloads
    second = await run(workflow)
    assert fake.attempts == attempts and fake.downloads == downloads  # not one request
    assert second.status == "ok" and len(second.files) == 2
    assert {p.read_bytes() for p in first.files} == {p.read_bytes() for p in second.files}
    assert set(first.files).isdisjoint(second.files)  # new names, nothing overwritten
    assert set(run.kinds("infer0")) == {"node_queued", "node_cached"}
    assert second.total_cost == 0


async def test_one_field_change_resends_only_what_depends_on_it(run: Run, fake: FakeRunware):
    workflow = g.branches(3).workflow()
    await run(workflow)
    before = len(fake.work_tasks())
    changed = apply_overrides(workflow, ["infer1_prompt.text=a different prompt"], REGISTRY)
    report = await run(changed)
    resent = fake.work_tasks()[before:]
    assert [t["taskType"] for t in resent] == ["imageInference"]
    assert resent[0]["positivePrompt"] == "a different prompt"
    assert report.status == "ok" and len(report.files) == 3


async def test_no_cache_runs_everything(run: Run, fake: FakeRunware):
    workflow = g.text_to_image().workflow()
    await run(workflow)
    await run(workflow, use_cache=False)
    assert fake.task_counts()["imageInference"] == 2


async def test_random_seed_is_drawn_recorded_and_not_cached(run: Run, fake: FakeRunware):
    workflow = g.text_to_image(seed=None, outputFormat="PNG").workflow()
    a = await run(workflow)
    b = await run(workflow)
    sent = [t["seed"] for t in fake.work_tasks()]
    assert len(sent) == 2 and sent[0] != sent[1]  # ComfyUI semantics: unset seed = new image each run
    assert a.seeds["infer"] == [sent[0]] and b.seeds["infer"] == [sent[1]]
    # The embedded workflow carries the drawn seed, so re-running the image reproduces it.
    embedded = read_embedded_workflow(a.files[0])
    assert json.loads(embedded)["nodes"]["infer"]["params"]["seed"] == sent[0]


async def test_cancel_keeps_and_saves_finished_results(run: Run, fake: FakeRunware):
    graph = g.Graph("cancel")
    graph.inference("a", "first image", seed=1)
    graph.save_image("save_a", "a")
    graph.inference("b", "second image", seed=2, strength=0.5)
    graph.link("a", "image", "b", "seed_image")
    graph.save_image("save_b", "b")
    fake.latency = 0.4
    cancel = CancelToken()

    def on_event(event):
        if event.kind is EventKind.NODE_FINISHED and event.node_id == "a":
            cancel.cancel()

    report = await run(graph.workflow(), cancel=cancel, on_event=on_event)
    assert report.status == "cancelled" and report.exit_code == 130
    assert len(report.files) == 1 and report.files[0].is_file()
    assert run.of("node_skipped", "save_b")[0].data["reason"] == "cancelled"
    assert {t.node: t.status for t in report.tasks}["b"] == "cancelled"
    assert json.loads(report.report_path.read_text())["status"] == "cancelled"


async def test_async_delivery_is_polled_with_progress(run: Run, fake: FakeRunware):
    report = await run(g.text_to_image(numberResults=2).workflow(), async_threshold=0)
    assert report.status == "ok" and len(report.files) == 2
    kinds = [t["taskType"] for t in fake.tasks]
    assert kinds[0] == "imageInference" and kinds.count("getResponse") == fake.async_polls + 1
    assert fake.tasks[0]["deliveryMethod"] == "async"
    assert [e.data["progress"] for e in run.of("node_progress", "infer")]
    assert report.tasks[0].delivery == "async"


async def test_download_failure_fails_only_that_output(run: Run, fake: FakeRunware):
    fake.download_faults.extend(["404"])
    report = await run(g.text_to_image(numberResults=2).workflow(), inline_images=False)  # images by URL
    assert report.status == "failed"
    assert len(report.files) == 1  # the other image is kept
    failed = run.of("node_failed", "save")[0]
    assert failed.data["code"] == "downloadFailed" and len(failed.data["images"]) == 1


async def test_transient_faults_lose_no_image(run: Run, fake: FakeRunware):
    fake.faults.extend([Fault("429", retry_after="0"), Fault("drop"), Fault("500"), Fault("malformed")])
    fake.download_faults.extend(["503", "drop"])
    retry = RetryPolicy(attempts=6, initial=0.01, jitter=0.01, read_timeout=5.0)
    report = await run(g.branches(3).workflow(), retry=retry, inline_images=False)  # images by URL
    assert report.status == "ok" and len(report.files) == 3, report.errors
    assert report.retries == 6 and fake.attempts == 2 + 4
    assert not run.of("node_failed")


async def test_rejected_key_stops_the_run(run: Run, fake: FakeRunware):
    report = await run(g.branches(3).workflow(), api_key="wrong")
    assert report.status == "failed" and fake.attempts == 1
    assert all(e["httpStatus"] == 401 for e in report.errors)
    assert {e.node_id for e in run.of("node_failed")} == {"pre0", "pre1", "pre2"}
    assert {e.node_id for e in run.of("node_skipped")} >= {"infer0", "save2"}


async def test_missing_model_names_the_node(run: Run, fake: FakeRunware):
    graph = g.text_to_image()
    graph.nodes["model"]["params"]["model"] = "civitai:404@404"
    report = await run(graph.workflow())
    [err] = report.errors
    assert err["node"] == "infer" and err["code"] == "modelNotFound" and err["parameter"] == "model"


async def test_uploads_once_and_reuses_its_uuid_across_runs(run: Run, fake: FakeRunware):
    workflow = load(WORKFLOWS / "controlnet-canny.json")
    report = await run(workflow, base_dir=WORKFLOWS)
    assert report.status == "ok"
    [upload] = [t for t in fake.tasks if t["taskType"] == "imageUpload"]
    assert upload["image"].startswith("data:image/png;base64,")
    changed = apply_overrides(workflow, ["canny.lowThresholdCanny=50"], REGISTRY)
    report = await run(changed, base_dir=WORKFLOWS)
    assert report.status == "ok"
    assert fake.task_counts()["imageUpload"] == 1  # the file's hash maps to its imageUUID
    assert fake.task_counts()["imageControlNetPreProcess"] == 2


async def test_expired_uuids_from_the_cache_are_healed_with_inline_bytes(run: Run, fake: FakeRunware):
    graph = g.Graph("heal")
    graph.inference("a", "the base image", seed=3)
    graph.inference("b", "a variation", seed=4, strength=0.3)
    graph.link("a", "image", "b", "seed_image")
    graph.save_image("save", "b")
    workflow = graph.workflow()
    await run(workflow)
    fake.images.clear()  # the server forgot every image (a restart, or UUIDs expired)
    changed = apply_overrides(workflow, ["b_prompt.text=another variation"], REGISTRY)
    report = await run(changed)
    assert report.status == "ok"
    resent = [t for t in fake.tasks if t.get("positivePrompt") == "another variation"]
    assert len(resent) == 2 and resent[1]["seedImage"].startswith("data:image/")


async def test_png_outputs_embed_workflow_and_task_jpg_gets_a_sidecar(run: Run, fake: FakeRunware):
    graph = g.text_to_image(outputFormat="PNG")
    graph.save_image("jpg_save", "infer")  # same image twice, to a second node
    report = await run(graph.workflow())
    png = report.files[0]
    assert png.suffix == ".png"
    task = read_embedded_task(png)
    assert task is not None and task["taskType"] == "imageInference" and task["seed"] == 7
    assert json.loads(read_embedded_workflow(png))["metadata"]["name"] == "t2i"
    jpg = (await run(g.text_to_image(seed=8).workflow())).files[0]
    assert jpg.suffix == ".jpg" and Path(str(jpg) + ".json").is_file()
    assert read_embedded_workflow(jpg) is not None


async def test_save_never_overwrites(run: Run, fake: FakeRunware, tmp_path: Path):
    out = tmp_path / "out" / "sub"
    out.mkdir(parents=True)
    (out / "fixed-7-0.jpg").write_bytes(b"precious")
    graph = g.text_to_image()
    graph.nodes["save"]["params"] = {"folder": "sub", "filename": "fixed-{seed}-{index}"}
    report = await run(graph.workflow(), use_cache=False)
    again = await run(graph.workflow(), use_cache=False)
    assert (out / "fixed-7-0.jpg").read_bytes() == b"precious"
    assert [p.name for p in report.files + again.files] == ["fixed-7-0-1.jpg", "fixed-7-0-2.jpg"]


async def test_report_lists_tasks_files_cost_and_never_the_key(run: Run, fake: FakeRunware, tmp_path: Path):
    report = await run(g.branches(2).workflow())
    data = json.loads(report.report_path.read_text())
    assert data["status"] == "ok" and data["backend"] == fake.url
    assert {t["taskType"] for t in data["tasks"]} == {"imageControlNetPreProcess", "imageInference"}
    assert all(t["duration"] is not None and t["cost"] == 0.0025 for t in data["tasks"])
    assert data["totalCost"] == pytest.approx(0.01) and len(data["files"]) == 2
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert fake.api_key.encode() not in path.read_bytes(), path


async def test_a_long_cached_chain_completes(run: Run, fake: FakeRunware):
    workflow = g.chain(120).workflow()
    first = await run(workflow, concurrency=1)
    assert first.status == "ok"
    attempts = fake.attempts
    second = await run(workflow)
    assert second.status == "ok" and fake.attempts == attempts


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.json")))
async def test_every_example_workflow_runs(run: Run, fake: FakeRunware, name: str):
    report = await run(load(WORKFLOWS / name), base_dir=WORKFLOWS)
    assert report.status == "ok", report.errors
    assert report.files or report.previews
    assert all(p.is_file() for p in report.files)
