"""`loomware serve`'s app over a real loopback socket (uvicorn in a thread)."""

from __future__ import annotations

import asyncio
import base64
import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from graph_runtime.backends.local.backend import LocalBackend
from graph_runtime.backends.local.catalog import Catalog
from graph_runtime.backends.local.server import create_app
from tests.local.helpers import inference, shape_png, task_uuid
from tests.loopback import ServerThread

pytestmark = pytest.mark.local

KEY = "test-key-not-a-secret"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def base_url(demo_catalog: Catalog) -> Iterator[str]:
    engine = LocalBackend(demo_catalog, device="cpu", dtype="float32", allow_remote_images=True)
    with ServerThread(create_app(engine, api_key=KEY, max_body_bytes=1_000_000), lifespan="on") as server:
        yield server.url


@pytest.fixture(scope="module")
def png_url() -> Iterator[str]:
    """A plain HTTP server holding one PNG: a URL input the engine must fetch."""
    png = shape_png()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/shape.png"
    httpd.shutdown()


def test_sync_task_with_url_output_is_downloadable(base_url: str, png_url: str) -> None:
    task = inference(outputType="URL", outputFormat="PNG", seedImage=png_url, strength=0.6)
    r = httpx.post(f"{base_url}/v1", json=[task], headers=AUTH, timeout=60)
    assert r.status_code == 200, r.text
    (item,) = r.json()["data"]
    assert item["taskUUID"] == task["taskUUID"] and item["imageURL"].startswith(f"{base_url}/images/")
    image = httpx.get(item["imageURL"], timeout=10)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content[:8] == b"\x89PNG\r\n\x1a\n"
    # The server's own URL feeds the next task without a fetch.
    again = httpx.post(f"{base_url}/v1", json=[inference(seedImage=item["imageURL"])], headers=AUTH, timeout=60)
    assert again.status_code == 200, again.text


def test_keys_are_checked_and_never_echoed(base_url: str) -> None:
    task = inference()
    for headers in ({}, {"Authorization": "Bearer wrong-key"}):
        r = httpx.post(f"{base_url}/v1", json=[task], headers=headers, timeout=30)
        assert r.status_code == 401 and r.json()["errors"][0]["code"] == "invalidApiKey"
        assert "wrong-key" not in r.text and KEY not in r.text
    auth_task = {"taskType": "authentication", "apiKey": KEY}
    r = httpx.post(f"{base_url}/v1", json=[auth_task, inference(outputType="base64Data")], timeout=60)
    assert r.status_code == 200 and len(r.json()["data"]) == 1


def test_errors_and_mixed_results_use_api_statuses(base_url: str) -> None:
    bad = httpx.post(f"{base_url}/v1", json=[inference(model="civitai:9@9")], headers=AUTH, timeout=30)
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "modelNotFound"
    mixed = httpx.post(f"{base_url}/v1", json=[inference(), inference(steps=500)], headers=AUTH, timeout=60)
    body = mixed.json()
    assert mixed.status_code == 200 and len(body["data"]) == 1 and body["errors"][0]["parameter"] == "steps"
    assert httpx.post(f"{base_url}/v1", content=b"{not json", headers=AUTH).status_code == 400
    assert httpx.get(f"{base_url}/images/{task_uuid()}.png").status_code == 404


def test_huge_body_gets_413(base_url: str) -> None:
    blob = base64.b64encode(b"\0" * 2_000_000).decode()
    r = httpx.post(
        f"{base_url}/v1", json=[{"taskType": "imageUpload", "taskUUID": task_uuid(), "image": blob}], headers=AUTH
    )
    assert r.status_code == 413 and r.json()["errors"][0]["code"] == "payloadTooLarge"


def test_async_delivery_then_get_response(base_url: str) -> None:
    task = inference(deliveryMethod="async", outputType="URL")
    ack = httpx.post(f"{base_url}/v1", json=[task], headers=AUTH, timeout=30)
    assert ack.json()["data"][0]["status"] == "processing"
    poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]
    for _ in range(300):
        items = httpx.post(f"{base_url}/v1", json=poll, headers=AUTH, timeout=30).json()["data"]
        if items and all(i["status"] == "success" for i in items):
            break
        time.sleep(0.05)
    assert items[0]["imageURL"].startswith(base_url)


def test_concurrent_clients_are_all_answered(base_url: str) -> None:
    async def many() -> list[int]:
        async with httpx.AsyncClient(headers=AUTH, timeout=120) as client:
            calls = [client.post(f"{base_url}/v1", json=[inference(seed=i + 1, steps=2)]) for i in range(12)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    assert asyncio.run(many()) == [200] * 12
