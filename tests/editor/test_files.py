"""Files: save and reopen, dirty marker, load errors, Loomware PNGs, examples, recent files, autosave."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from app.editor import files
from app.editor.autosave import autosave_dir, find_orphans
from graph_runtime.document import dumps, load
from graph_runtime.png_metadata import embed_png_text, metadata_entries
from tests.editor.conftest import WORKFLOWS
from tests.editor.helpers import tiny_png

pytestmark = pytest.mark.qt

TINY_PNG = tiny_png()


def test_save_and_reopen_gives_the_identical_document(make_window, tmp_path) -> None:
    window = make_window(WORKFLOWS / "text-to-image.json")
    infer = next(n for n, node in window.workflow.nodes.items() if node.type == "image_inference")
    window.editor.set_param(infer, "steps", 12)
    assert window.isWindowModified() and "[*]" in window.windowTitle()
    target = tmp_path / "mine.json"
    assert window.save_as(target)
    assert not window.isWindowModified()
    assert window.workflow.metadata.modified is not None  # touched on save
    saved = target.read_text()
    assert saved == dumps(window.workflow)
    other = make_window(target)
    assert dumps(other.workflow) == saved
    assert not other.isWindowModified()
    assert files.recent_files()[0] == target.resolve()


def test_load_errors_are_listed_in_a_dialog_and_keep_the_current_work(window, tmp_path) -> None:
    window.editor.add_node("prompt", (0, 0))
    before = dumps(window.workflow)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 1, "nodes": {"a": {"type": "nope"}, "b": {"type": "prompt", "x": 1}}}))
    assert not window.open_path(bad)
    box = window.last_dialog
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "2 problems" in box.text()
    assert "unknown node type 'nope'" in box.informativeText() and "unknown field" in box.informativeText()
    assert "Traceback" not in box.detailedText()
    assert dumps(window.workflow) == before
    box.close()


def test_a_loomware_png_opens_its_embedded_workflow(window, tmp_path) -> None:
    text = (WORKFLOWS / "text-to-image.json").read_text()
    png = tmp_path / "image.png"
    png.write_bytes(embed_png_text(TINY_PNG, metadata_entries(text, None)))
    assert window.open_path(png)
    assert dumps(window.workflow) == dumps(load(WORKFLOWS / "text-to-image.json"))
    assert window.model.path is None  # opens as a new document, never overwriting anything


def test_dropping_a_workflow_file_opens_it(window) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(WORKFLOWS / "embeddings.json"))])
    event = QDropEvent(QPoint(50, 50).toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)  # fmt: skip
    window.dropEvent(event)
    assert window.model.path == (WORKFLOWS / "embeddings.json").resolve()


def test_a_png_without_a_workflow_is_a_clear_problem(window, tmp_path) -> None:
    png = tmp_path / "plain.png"
    png.write_bytes(TINY_PNG)
    assert not window.open_path(png)
    assert "holds no Loomware workflow" in window.last_dialog.informativeText()


def test_examples_menu_lists_the_repository_workflows(window) -> None:
    titles = [a.text() for a in window.examples_menu.actions()]
    assert len(titles) == len(list(WORKFLOWS.glob("*.json")))
    window.examples_menu.actions()[0].trigger()
    assert window.workflow.nodes and window.model.path is None  # an example opens as a copy


def test_examples_folder_may_be_absent(monkeypatch) -> None:
    monkeypatch.setattr(files, "examples_dir", lambda: None)
    assert files.example_files() == []


def test_closing_with_unsaved_work_asks_and_can_be_cancelled(window) -> None:
    window.editor.add_node("prompt", (0, 0))
    asked = []
    window.ask_save_changes = lambda: asked.append(1) or "cancel"
    window.close()
    assert asked and window.isVisible()
    window.ask_save_changes = lambda: "discard"


def test_autosave_after_idle_and_removed_on_save(window, qtbot, tmp_path) -> None:
    window.autosaver.timer.setInterval(30)
    window.editor.add_node("prompt", (0, 0))
    qtbot.waitUntil(lambda: window.autosaver.file.exists(), timeout=3000)
    assert window.autosaver.file.read_text() == dumps(window.workflow)
    meta = json.loads(window.autosaver.meta_file.read_text())
    assert meta["pid"] == os.getpid()
    assert find_orphans() == []  # our own live autosave is not an orphan
    window.save_as(tmp_path / "w.json")
    assert not window.autosaver.file.exists()


def test_after_a_crash_the_next_start_offers_to_restore(make_window, tmp_path) -> None:
    # what a crashed editor leaves behind: an autosave whose process is gone
    folder = autosave_dir()
    folder.mkdir(parents=True)
    text = (WORKFLOWS / "lora-stack.json").read_text()
    (folder / "dead.json").write_text(text)
    original = tmp_path / "lost.json"
    meta = {"pid": 2**22 + 12345, "path": str(original), "name": "Lost work", "saved_at": 1.0}
    (folder / "dead.meta.json").write_text(json.dumps(meta))
    assert [o.name for o in find_orphans()] == ["Lost work"]

    window = make_window()
    offered = []
    window.ask_restore = lambda orphan: offered.append(orphan.name) or True
    assert window.offer_restore()
    assert offered == ["Lost work"]
    assert dumps(window.workflow) == dumps(load(WORKFLOWS / "lora-stack.json"))
    assert window.model.path == original and window.isWindowModified()  # restored work is unsaved work
    assert not (folder / "dead.json").exists()
    assert window.autosaver.file.exists()  # kept safe under this session until saved


def test_declining_a_restore_removes_the_autosave(make_window) -> None:
    folder = autosave_dir()
    folder.mkdir(parents=True)
    (folder / "x.json").write_text((WORKFLOWS / "text-to-image.json").read_text())
    (folder / "x.meta.json").write_text(json.dumps({"pid": 2**22 + 12346, "name": "x"}))
    window = make_window()
    window.ask_restore = lambda orphan: False
    assert not window.offer_restore()
    assert find_orphans() == [] and window.workflow.nodes == {}


def test_new_window_and_clipboard_across_windows(make_window, qtbot) -> None:
    a = make_window(WORKFLOWS / "text-to-image.json")
    b = make_window()
    ids = list(a.workflow.nodes)[:2]
    a.scene.select_nodes(ids)
    assert a.copy()
    text = QApplication.clipboard().text()
    assert json.loads(text)["nodes"].keys() == set(ids)  # plain workflow JSON on the clipboard
    pasted = b.paste()
    assert len(pasted) == 2
    assert [b.workflow.nodes[n].type for n in pasted] == [a.workflow.nodes[n].type for n in ids]
    assert len(b.workflow.links) == sum(1 for lk in a.workflow.links if {lk.from_.node, lk.to.node} <= set(ids))
    b.stack.undo()
    assert b.workflow.nodes == {}


def test_paste_plain_json_text_and_refuse_other_text(window) -> None:
    QApplication.clipboard().setText((WORKFLOWS / "embeddings.json").read_text())
    assert window.paste()
    QApplication.clipboard().setText("hello")
    assert window.paste() == []
    assert "no Loomware nodes" in window.statusBar().currentMessage()


def test_cut_then_paste_twice_gives_fresh_ids(window) -> None:
    node = window.editor.add_node("prompt", (0, 0))
    window.editor.set_param(node, "text", "hello there")
    window.scene.select_nodes([node])
    window.cut()
    assert window.workflow.nodes == {}
    first = window.paste()
    second = window.paste()
    assert first == [node] and second != first
    assert all(window.workflow.nodes[n].params == {"text": "hello there"} for n in first + second)


def test_recent_files_survive_a_restart(tmp_path) -> None:
    p = tmp_path / "a.json"
    p.write_text("{}")
    files.add_recent(p)
    files.add_recent(p)
    assert files.recent_files() == [p.resolve()]


def test_workflow_paths_stay_relative(window, tmp_path) -> None:
    assert window.open_path(WORKFLOWS / "controlnet-canny.json")
    assert window.model.base_dir == WORKFLOWS.resolve()
    problems = [d for d in window.diagnostics if d.severity == "error"]
    assert problems == []  # assets/reference.png found relative to the workflow
    assert Path(window.model.path).name == "controlnet-canny.json"
