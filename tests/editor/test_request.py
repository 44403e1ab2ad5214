"""Show request shows exactly what the compiler produces; copy as JSON and as curl (key never included)."""

from __future__ import annotations

import itertools
import json

import pytest
from PySide6.QtWidgets import QApplication

from app.editor.request_view import curl_command, request_tasks
from graph_runtime.compile import compile_workflow
from graph_runtime.document import load
from tests.editor.conftest import WORKFLOWS

pytestmark = pytest.mark.qt


def counter():  # type: ignore[no-untyped-def]
    numbers = itertools.count(1)
    return lambda: f"task-{next(numbers)}"


def test_request_is_the_compilers_output() -> None:
    wf = load(WORKFLOWS / "lora-stack.json")
    ours = request_tasks(wf, WORKFLOWS, new_uuid=counter())
    assert ours == compile_workflow(wf, base_dir=WORKFLOWS, new_uuid=counter()).to_api()


def test_request_for_one_node_is_filtered_from_the_whole_plan() -> None:
    wf = load(WORKFLOWS / "controlnet-canny.json")
    plan = compile_workflow(wf, base_dir=WORKFLOWS, new_uuid=counter())
    for node_id in wf.nodes:
        expected = [t.to_api() for t in plan.tasks if t.node_id == node_id]
        assert request_tasks(wf, WORKFLOWS, node_id, new_uuid=counter()) == expected


def test_dialog_copies_json_and_curl_without_the_key(make_window, monkeypatch) -> None:
    monkeypatch.setenv("RUNWARE_API_KEY", "sk-secret-123456")
    window = make_window(WORKFLOWS / "text-to-image.json")
    dialog = window.show_request()
    assert dialog.error is None
    shown = json.loads(dialog.text.toPlainText())
    assert [t["taskType"] for t in shown] == ["imageInference"]
    dialog.copy_json.click()
    assert json.loads(QApplication.clipboard().text()) == dialog.tasks
    dialog.copy_curl.click()
    curl = QApplication.clipboard().text()
    assert "Bearer $RUNWARE_API_KEY" in curl and "sk-secret" not in curl
    assert curl == curl_command(dialog.tasks)
    dialog.close()


def test_dialog_for_a_selected_node(make_window) -> None:
    window = make_window(WORKFLOWS / "text-to-image.json")
    infer = next(n for n, node in window.workflow.nodes.items() if node.type == "image_inference")
    window.scene.select_nodes([infer])
    dialog = window.show_request()
    assert "node infer" in dialog.windowTitle()
    assert len(dialog.tasks) == 1
    dialog.close()


def test_dialog_lists_errors_instead_of_a_request(window) -> None:
    window.editor.add_node("image_inference", (0, 0))
    dialog = window.show_request()
    assert dialog.error is not None and "needs a link" in dialog.text.toPlainText()
    assert not dialog.copy_json.isEnabled()
    dialog.close()
