"""Show request: the exact API JSON the compiler produces for the graph or the selected node.

The editor never builds API JSON; this asks compile_workflow and shows Plan.to_api(), filtered to the tasks
that came from the selected node. Copy as JSON or as a curl command with the key left as a variable.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from graph_runtime.compile import CompileError, compile_workflow
from graph_runtime.document import Workflow

API_URL = "https://api.runware.ai/v1"


def request_tasks(
    workflow: Workflow, base_dir: Path, node_id: str | None = None, new_uuid: Callable[[], str] | None = None
) -> list[dict]:
    """The API task array for the graph, or only the tasks of one node. Raises CompileError."""
    plan = compile_workflow(workflow, base_dir=base_dir, new_uuid=new_uuid)
    if node_id is None:
        return plan.to_api()
    return [task.to_api() for task in plan.tasks if task.node_id == node_id]


def curl_command(tasks: list[dict]) -> str:
    """A curl command that sends `tasks`; the key stays in the environment, never in the text."""
    body = json.dumps(tasks, ensure_ascii=False)
    return (
        f"curl -X POST {API_URL} \\\n"
        '  -H "Content-Type: application/json" \\\n'
        '  -H "Authorization: Bearer $RUNWARE_API_KEY" \\\n'
        f"  --data-raw {shlex.quote(body)}"
    )


class RequestDialog(QDialog):
    def __init__(
        self, workflow: Workflow, base_dir: Path, node_id: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Request" + (f" for node {node_id}" if node_id else " for the whole graph"))
        self.resize(720, 560)
        self.tasks: list[dict] = []
        self.error: str | None = None
        try:
            self.tasks = request_tasks(workflow, base_dir, node_id)
        except CompileError as exc:
            self.error = "\n".join(f"• {d}" for d in exc.diagnostics)
        layout = QVBoxLayout(self)
        note = QLabel(
            "Exactly what a run sends to the API. {{TASK.field}} marks a value filled in from an earlier task; "
            "{{file:PATH}} a local image uploaded first."
            if self.error is None
            else "The graph has errors, so there is no request yet. Fix these first:"
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setFont(QFont("monospace"))
        if self.error is None:
            shown = json.dumps(self.tasks, indent=2, ensure_ascii=False)
            if node_id is not None and not self.tasks:
                shown = (
                    "// this node adds no API task of its own (its values flow into the tasks of the nodes it feeds)"
                )
            self.text.setPlainText(shown)
        else:
            self.text.setPlainText(self.error)
        layout.addWidget(self.text)
        buttons = QHBoxLayout()
        self.copy_json = QPushButton("Copy as JSON")
        self.copy_curl = QPushButton("Copy as curl")
        close = QPushButton("Close")
        for button in (self.copy_json, self.copy_curl):
            button.setEnabled(self.error is None)
        self.copy_json.clicked.connect(self._copy_json)
        self.copy_curl.clicked.connect(self._copy_curl)
        close.clicked.connect(self.accept)
        buttons.addWidget(self.copy_json)
        buttons.addWidget(self.copy_curl)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)

    def _copy_json(self) -> None:
        QGuiApplication.clipboard().setText(json.dumps(self.tasks, indent=2, ensure_ascii=False))

    def _copy_curl(self) -> None:
        QGuiApplication.clipboard().setText(curl_command(self.tasks))
