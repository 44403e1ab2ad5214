"""The Qt-free helpers: fuzzy matching, layered layout, fragments, connection rules, the CLI command."""

from __future__ import annotations

from click.testing import CliRunner

from app.editor.connections import PortRef, compatible_ports, connection_problem
from app.editor.fragments import make_fragment, parse_fragment, remap_fragment
from app.editor.fuzzy import fuzzy_score
from app.editor.layout import layered_positions
from graph_runtime.document import dumps, load
from tests.editor.conftest import WORKFLOWS


def test_fuzzy_prefers_prefixes_then_words_then_subsequences() -> None:
    assert fuzzy_score("ima", "Image Inference") > fuzzy_score("inf", "Image Inference") > 0
    assert fuzzy_score("iminf", "Image Inference") is not None
    assert fuzzy_score("xyz", "Image Inference") is None


def test_layout_puts_each_generation_in_its_own_column() -> None:
    wf = load(WORKFLOWS / "text-to-image.json")
    pos = layered_positions(wf, wf.nodes, lambda _n: (240.0, 100.0))
    assert pos["model"][0] == pos["prompt"][0] < pos["infer"][0] < pos["save"][0]
    assert pos["model"][1] != pos["prompt"][1]


def test_fragments_round_trip_through_text_with_fresh_ids() -> None:
    wf = load(WORKFLOWS / "text-to-image.json")
    fragment = parse_fragment(dumps(make_fragment(wf, ["prompt", "infer"])))
    assert fragment is not None and set(fragment.nodes) == {"prompt", "infer"}
    assert [lk.id for lk in fragment.links] == ["prompt-infer"]
    pasted = remap_fragment(wf, fragment, (10, 20))
    assert [n for n, _ in pasted.nodes] == ["prompt_2", "infer_2"]
    assert pasted.links[0].from_.node == "prompt_2" and pasted.links[0].to.node == "infer_2"
    assert pasted.nodes[0][1].position == (wf.nodes["prompt"].position[0] + 10, wf.nodes["prompt"].position[1] + 20)


def test_connection_rules() -> None:
    wf = load(WORKFLOWS / "text-to-image.json")
    text, positive = PortRef("prompt", "text", True), PortRef("infer", "positive", False)
    assert connection_problem(wf, text, positive) == "these ports are already connected"
    assert "gives TEXT" in connection_problem(wf, text, PortRef("infer", "model", False))
    assert "two outputs" in connection_problem(wf, text, PortRef("model", "model", True))
    assert PortRef("infer", "negative", False) in compatible_ports(wf, text)
    assert PortRef("infer", "positive", False) not in compatible_ports(wf, text)


def test_edit_command_is_registered(monkeypatch) -> None:
    import app.editor.app as editor_app
    from app.cli import main

    opened = []
    monkeypatch.setattr(editor_app, "run_editor", lambda path=None: opened.append(path) or 0)
    result = CliRunner().invoke(main, ["edit", str(WORKFLOWS / "embeddings.json")])
    assert result.exit_code == 0, result.output
    assert opened == [WORKFLOWS / "embeddings.json"]
    assert "edit" in CliRunner().invoke(main, ["--help"]).output
