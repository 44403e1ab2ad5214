"""The `loomware` command.

Subcommands that need heavy imports (the executor, Qt, the local engine) are loaded only when called, so the
headless commands (`validate`, `compile`, `nodes`, `schema`) start fast and never import PySide6 or torch.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

# Exit codes shared by every subcommand.
EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 2, 130

# name -> "module:attribute" of a click command, imported on first use.
_LAZY_COMMANDS = {
    "run": "app.commands.run:run_command",
    "edit": "app.commands.edit:edit_command",
    "models": "app.commands.models:models_group",
    "serve": "app.commands.serve:serve_command",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self._available()])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _LAZY_COMMANDS and cmd_name in self._available():
            module, attr = _LAZY_COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, cmd_name)

    @staticmethod
    def _available() -> list[str]:
        here = Path(__file__).parent / "commands"
        return [
            n for n, target in _LAZY_COMMANDS.items() if (here / f"{target.split(':')[0].split('.')[-1]}.py").exists()
        ]


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def load_or_exit(path: str, overrides: tuple[str, ...] = ()) -> Any:
    """Load a workflow (applying --set overrides) or exit 2 with one line per problem."""
    from graph_runtime.document import load
    from graph_runtime.overrides import OverrideError, apply_overrides
    from graph_runtime.problems import WorkflowLoadError
    from nodes import REGISTRY

    try:
        workflow = load(path, REGISTRY)
        return apply_overrides(workflow, list(overrides), REGISTRY) if overrides else workflow
    except WorkflowLoadError as exc:
        fail(str(exc))
    except OverrideError as exc:
        fail(str(exc))


set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="NODE.FIELD=VALUE",
    help="Override a parameter for this run (repeatable). VALUE is JSON or plain text; null unsets it.",
)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="loomware")
def main() -> None:
    """Loomware: build, validate, compile and run image-generation workflows for the Runware API."""


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@set_option
@click.option("--json", "as_json", is_flag=True, help="Print diagnostics as a JSON array.")
def validate(file: str, overrides: tuple[str, ...], as_json: bool) -> None:
    """Check a workflow. Exit 0: runnable (maybe with warnings), 1: errors, 2: the file cannot be loaded."""
    from graph_runtime.validate import validate as run_validation

    workflow = load_or_exit(file, overrides)
    diagnostics = run_validation(workflow, base_dir=Path(file).parent)
    errors = sum(d.severity == "error" for d in diagnostics)
    if as_json:
        click.echo(json.dumps([d.to_dict() for d in diagnostics], indent=2))
    else:
        for d in diagnostics:
            click.echo(str(d))
        warnings = len(diagnostics) - errors
        click.echo(f"{file}: {errors} error(s), {warnings} warning(s)", err=True)
    sys.exit(EXIT_FAILED if errors else EXIT_OK)


@main.command(name="compile")
@click.argument("file", type=click.Path(dir_okay=False))
@set_option
@click.option(
    "--plan",
    "full_plan",
    is_flag=True,
    help="Print the whole plan (tasks with their nodes and dependencies, and the outputs).",
)
def compile_command(file: str, overrides: tuple[str, ...], full_plan: bool) -> None:
    """Print the API tasks a workflow compiles to: exactly the JSON array the API takes.

    Values that come from an earlier task are placeholders: {{TASK_UUID.field}}; local files to upload are
    {{file:PATH}}.
    """
    from graph_runtime.compile import CompileError, compile_workflow

    workflow = load_or_exit(file, overrides)
    try:
        plan = compile_workflow(workflow, base_dir=Path(file).parent)
    except CompileError as exc:
        fail(str(exc))
    click.echo(json.dumps(plan.to_dict() if full_plan else plan.to_api(), indent=2, ensure_ascii=False))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def nodes(as_json: bool) -> None:
    """List node types with their ports and parameters (ranges, defaults, allowed values)."""
    from app.catalogue_text import catalogue_data, catalogue_text
    from nodes import REGISTRY

    if as_json:
        click.echo(json.dumps(catalogue_data(REGISTRY), indent=2))
    else:
        click.echo(catalogue_text(REGISTRY))


@main.command()
def schema() -> None:
    """Print the JSON Schema of workflow files."""
    from graph_runtime.schema import workflow_schema
    from nodes import REGISTRY

    click.echo(json.dumps(workflow_schema(REGISTRY), indent=2))


if __name__ == "__main__":
    main()
