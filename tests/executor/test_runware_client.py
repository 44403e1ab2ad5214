"""The cloud client against a real HTTP server on loopback: parsing, typed errors, retries and downloads."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from conftest import FAST_RETRY
from fake_runware import MISSING_MODEL, FakeRunware, Fault

from graph_runtime.backends.runware import (
    AuthenticationError,
    DownloadError,
    InsufficientBalanceError,
    InvalidParameterError,
    InvalidResponseError,
    ModelNotFoundError,
    RetryPolicy,
    RunwareBackend,
    ServerError,
    error_from_api,
    parse_body,
)


def inference(prompt: str = "a red fox", **extra: object) -> dict[str, object]:
    return {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": "runware:101@1",
            "positivePrompt": prompt, "width": 512, "height": 512, "seed": 5, **extra}  # fmt: skip


@pytest.fixture
async def client(fake: FakeRunware) -> AsyncIterator[RunwareBackend]:
    backend = RunwareBackend(fake.api_key, fake.url, retry=FAST_RETRY)
    yield backend
    await backend.aclose()


async def test_submit_matches_items_by_uuid_and_keeps_unknown_fields(client: RunwareBackend, fake: FakeRunware):
    a, b = inference("first"), inference("second", numberResults=2)
    result = await client.submit([a, b])
    assert len(result.items_for(a["taskUUID"])) == 1
    assert len(result.items_for(b["taskUUID"])) == 2
    assert result.items_for(a["taskUUID"])[0]["someNewField"] == {"kept": True}
    assert fake.auth_headers == [f"Bearer {fake.api_key}"]
    assert len(fake.requests) == 1 and fake.requests[0] == [a, b]


async def test_429_honours_retry_after(client: RunwareBackend, fake: FakeRunware):
    fake.faults.extend([Fault("429", retry_after="1"), Fault("429", retry_after="1")])
    result = await client.submit([inference()])
    assert result.items and not result.errors
    assert fake.attempts == 3
    assert [note.wait for note in client.retry_log] == [1.0, 1.0]
    assert all(type(note.error).__name__ == "RateLimitError" for note in client.retry_log)


async def test_500_burst_is_retried_with_backoff(client: RunwareBackend, fake: FakeRunware):
    fake.faults.extend([Fault("500"), Fault("503")])
    result = await client.submit([inference()])
    assert result.items
    assert fake.attempts == 3 and len(client.retry_log) == 2


async def test_slow_answer_times_out_and_is_retried(fake: FakeRunware):
    policy = RetryPolicy(attempts=3, initial=0.01, jitter=0.01, read_timeout=0.3)
    async with RunwareBackend(fake.api_key, fake.url, retry=policy) as client:
        fake.faults.append(Fault("slow", delay=1.5))
        result = await client.submit([inference()])
        assert result.items
        assert type(client.retry_log[0].error).__name__ == "RequestTimeoutError"


async def test_connection_dropped_mid_response_is_retried(client: RunwareBackend, fake: FakeRunware):
    fake.faults.append(Fault("drop"))
    result = await client.submit([inference()])
    assert result.items
    assert type(client.retry_log[0].error).__name__ == "NetworkError"
    assert fake.attempts == 2


async def test_malformed_json_is_retried_then_given_up(client: RunwareBackend, fake: FakeRunware):
    fake.faults.append(Fault("malformed"))
    assert (await client.submit([inference()])).items
    fake.faults.extend([Fault("malformed")] * 4)
    with pytest.raises(InvalidResponseError):
        await client.submit([inference()])
    assert fake.attempts == 2 + FAST_RETRY.attempts


async def test_persistent_5xx_raises_after_the_attempts(client: RunwareBackend, fake: FakeRunware):
    fake.faults.extend([Fault("500")] * 10)
    with pytest.raises(ServerError) as info:
        await client.submit([inference()])
    assert info.value.http_status == 500
    assert fake.attempts == FAST_RETRY.attempts


async def test_wrong_key_is_typed_and_never_retried(fake: FakeRunware):
    async with RunwareBackend("wrong-key", fake.url, retry=FAST_RETRY) as client:
        result = await client.submit([inference()])
    assert fake.attempts == 1
    assert isinstance(result.errors[0], AuthenticationError)
    assert result.errors[0].http_status == 401


async def test_data_and_errors_in_one_response(client: RunwareBackend, fake: FakeRunware):
    good, bad, crash = inference("fine"), inference("x", model=MISSING_MODEL), inference("FAIL please")
    result = await client.submit([good, bad, crash])
    assert fake.attempts == 1  # a 200 with per-task errors is an answer, not a fault
    assert result.items_for(good["taskUUID"])
    [missing] = result.errors_for(bad["taskUUID"])
    assert isinstance(missing, ModelNotFoundError) and missing.parameter == "model"
    assert missing.extra["documentation"].startswith("https://")  # unknown error fields kept
    assert result.errors_for(crash["taskUUID"])[0].code == "inferenceFailed"


async def test_invalid_request_400_is_not_retried(client: RunwareBackend, fake: FakeRunware):
    result = await client.submit([inference("x", model=MISSING_MODEL)])
    assert fake.attempts == 1
    assert result.errors[0].http_status == 400


async def test_download_is_retried_capped_and_keyed_to_its_origin(client: RunwareBackend, fake: FakeRunware):
    result = await client.submit([inference(outputFormat="PNG")])
    url = result.items[0]["imageURL"]
    fake.download_faults.extend(["500", "drop"])
    data = await client.fetch_image(url, 1 << 20)
    assert data.startswith(b"\x89PNG")
    assert fake.downloads == 3
    with pytest.raises(DownloadError) as info:
        await client.fetch_image(url, 10)
    assert info.value.code == "imageTooLarge"
    fake.download_faults.append("404")
    with pytest.raises(DownloadError):
        await client.fetch_image(url, 1 << 20)
    # The key goes to the server's own origin only, never to another host serving images.
    other_origin = url.replace("127.0.0.1", "localhost")
    await client.fetch_image(other_origin, 1 << 20)
    assert fake.download_auth[0] == f"Bearer {fake.api_key}"
    assert fake.download_auth[-1] is None


async def test_async_delivery_and_get_response(client: RunwareBackend, fake: FakeRunware):
    task = inference(deliveryMethod="async")
    ack = await client.submit([task])
    assert ack.items[0]["status"] == "processing"
    statuses = []
    for _ in range(fake.async_polls + 1):
        polled = await client.poll([task["taskUUID"]])
        statuses.append(polled.items[0]["status"])
    assert statuses[-1] == "success" and statuses[0] == "processing"


def test_parse_body_accepts_every_form():
    assert parse_body({"data": [{"taskUUID": "a", "x": 1}]}, 200).items == [{"taskUUID": "a", "x": 1}]
    old = parse_body({"error": "Invalid API key"}, 401)
    assert isinstance(old.errors[0], AuthenticationError)
    both = parse_body({"data": [{"taskUUID": "a"}], "errors": [{"code": "x", "taskUUID": "b", "message": "m"}]}, 200)
    assert both.items and both.errors[0].task_uuid == "b"
    with pytest.raises(InvalidResponseError):
        parse_body([1, 2], 200)


@pytest.mark.parametrize(
    ("status", "code", "parameter", "cls"),
    [
        (401, "invalidApiKey", None, AuthenticationError),
        (403, "forbidden", None, AuthenticationError),
        (402, "insufficientCredits", None, InsufficientBalanceError),
        (400, "invalidModel", "model", ModelNotFoundError),
        (400, "modelNotFound", "model", ModelNotFoundError),
        (400, "invalidSteps", "steps", InvalidParameterError),
        (503, "serviceUnavailable", None, ServerError),
    ],
)
def test_errors_are_typed(status: int, code: str, parameter: str | None, cls: type):
    err = error_from_api({"code": code, "message": "m", "parameter": parameter}, status)
    assert type(err) is cls
    assert err.to_api()["code"] == code
