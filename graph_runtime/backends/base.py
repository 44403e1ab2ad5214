"""The one interface every inference engine implements.

An engine takes a batch of API tasks (exactly the JSON objects the Runware API takes) and answers with the
result items and the per-task errors, as the API does: one request may succeed for some tasks and fail for
others. The cloud client, the local diffusers engine and any Runware-compatible server at a URL all speak it,
so the executor never knows which one it is talking to.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass
class ApiError(Exception):
    """One error as the API reports it, scoped to the task that failed (when it names one)."""

    code: str
    message: str
    parameter: str | None = None
    task_type: str | None = None
    task_uuid: str | None = None
    http_status: int | None = None
    # Fields we do not model (documentation, allowedValues, responseContent, ...) are kept, never dropped.
    extra: JsonDict = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f" (parameter {self.parameter})" if self.parameter else ""
        return f"{self.code}: {self.message}{where}"

    def to_api(self) -> JsonDict:
        """The error in the API's own wire format."""
        out: JsonDict = {"code": self.code, "message": self.message}
        if self.parameter is not None:
            out["parameter"] = self.parameter
        if self.task_type is not None:
            out["taskType"] = self.task_type
        if self.task_uuid is not None:
            out["taskUUID"] = self.task_uuid
        out.update(self.extra)
        return out

    @classmethod
    def from_api(cls, obj: JsonDict, http_status: int | None = None) -> ApiError:
        known = {"code", "message", "parameter", "taskType", "taskUUID"}
        return cls(
            code=str(obj.get("code", "unknown")),
            message=str(obj.get("message", "")),
            parameter=obj.get("parameter"),
            task_type=obj.get("taskType"),
            task_uuid=obj.get("taskUUID"),
            http_status=http_status,
            extra={k: v for k, v in obj.items() if k not in known},
        )


@dataclass
class BatchResult:
    """What one request returned: result items (matched to tasks by taskUUID) and per-task errors."""

    items: list[JsonDict] = field(default_factory=list)
    errors: list[ApiError] = field(default_factory=list)

    def items_for(self, task_uuid: str) -> list[JsonDict]:
        return [item for item in self.items if item.get("taskUUID") == task_uuid]

    def errors_for(self, task_uuid: str) -> list[ApiError]:
        return [err for err in self.errors if err.task_uuid == task_uuid]

    def to_api(self) -> JsonDict:
        """The response body in the API's wire format (`data`, `errors`, or both)."""
        body: JsonDict = {}
        if self.items or not self.errors:
            body["data"] = self.items
        if self.errors:
            body["errors"] = [err.to_api() for err in self.errors]
        return body


class Backend(ABC):
    """An engine that runs API tasks. Implementations must be safe to call concurrently from one event loop."""

    #: Short name shown in events and reports ("cloud", "local", a URL).
    name: str = "backend"

    @abstractmethod
    async def submit(self, tasks: list[JsonDict]) -> BatchResult:
        """Send a batch of tasks. Sync tasks come back with their items; async ones with an acknowledgement."""

    @abstractmethod
    async def poll(self, task_uuids: list[str]) -> BatchResult:
        """Ask for the results so far of tasks sent with deliveryMethod "async" (the API's getResponse)."""

    async def cancel(self, task_uuids: list[str]) -> None:  # noqa: B027 - optional for engines
        """Best effort: stop work on these tasks. Engines that cannot cancel ignore it."""

    async def fetch_image(self, url: str, max_bytes: int) -> bytes:
        """Download a result image given by URL. Engines override this to serve their own URLs."""
        raise NotImplementedError(f"{self.name} cannot fetch {url}")

    async def aclose(self) -> None:  # noqa: B027 - nothing to release by default
        """Release connections, threads and models."""

    async def __aenter__(self) -> Backend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
