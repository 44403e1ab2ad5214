"""Node declarations are checked when they register, so a bad node fails at import, not in a person's run."""

from __future__ import annotations

from typing import Any

import pytest

from graph_runtime.params import Kind, Param
from graph_runtime.registry import InputPort, NodeType, OutputPort, PortType, RegistrationError, Registry


def _compile(ctx: Any) -> dict[str, Any]:
    return {}


def make(**overrides: Any) -> NodeType:
    fields: dict[str, Any] = {
        "id": "thing",
        "title": "Thing",
        "category": "Test",
        "description": "A test node.",
        "compile": _compile,
        "outputs": (OutputPort("out", PortType.IMAGE),),
    }
    return NodeType(**(fields | overrides))


def test_a_good_declaration_registers() -> None:
    registry = Registry()
    registry.register(make())
    assert "thing" in registry and registry["thing"].title == "Thing"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id": "Bad Id"}, "lower_snake_case"),
        ({"inputs": (InputPort("in", PortType.TEXT), InputPort("in", PortType.TEXT))}, "duplicate input"),
        ({"inputs": (InputPort("x", PortType.TEXT),), "params": (Param("x", Kind.INT),)}, "both as input"),
        ({"inputs": (InputPort("x", "PIXELS"),)}, "unknown type"),  # type: ignore[arg-type]
        ({"params": (Param("a", Kind.INT, exclusive_with="b"),)}, "unknown param 'b'"),
        ({"summary": ("nope",)}, "summary names unknown param"),
        ({"is_output": True}, "output nodes have no output ports"),
    ],
)
def test_bad_declarations_fail_at_registration(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistrationError, match=message):
        Registry().register(make(**overrides))


def test_registering_twice_fails() -> None:
    registry = Registry()
    registry.register(make())
    with pytest.raises(RegistrationError, match="twice"):
        registry.register(make())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": Kind.INT, "default": 5, "minimum": 10}, "default 5 is invalid"),
        ({"kind": Kind.INT, "initial": 100, "multiple_of": 64}, "initial 100 is invalid"),
        ({"kind": Kind.ENUM, "default": "c", "choices": ("a", "b")}, "default 'c' is invalid"),
        ({"kind": Kind.ENUM}, "needs choices"),
        ({"kind": Kind.FLOAT, "default": "1"}, "invalid"),
    ],
)
def test_defaults_must_lie_inside_their_ranges(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Param("p", **kwargs)


def test_the_standard_library_covers_the_design_card() -> None:
    from nodes import REGISTRY

    assert set(REGISTRY.ids()) == {
        "prompt", "model", "vae", "lora", "embedding", "load_image", "controlnet_preprocess", "controlnet",
        "refiner", "image_inference", "save_image", "preview_image",
    }  # fmt: skip
    assert {p for nt in REGISTRY for port in (*nt.inputs, *nt.outputs) for p in [port.type]} == set(PortType)
