"""Slow work and slow bodies: a request whose inference runs past STYLETRACE_REQUEST_TIMEOUT_SECONDS
answers 504 instead of hanging, the abandoned work keeps its worker slot until it really ends,
and an upload streamed without Content-Length is refused as soon as it passes the limit."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.deps import MULTIPART_SLACK
from service.runtime import Runtime
from service.settings import Settings
from tests.service.http import AUTH, art

FILES = {"image": ("q.png", art("alice", 1), "image/png")}


@pytest.fixture
def stuck(
    settings: Settings, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, threading.Event, list[str]]]:
    """One worker, a 0.5 s timeout, and a matcher that blocks until the event is set."""
    settings.inference_workers, settings.request_timeout_seconds = 1, 0.5
    release, finished = threading.Event(), []
    real_match = runtime.matcher.match

    def blocked(*args: Any) -> Any:
        release.wait(30)
        result = real_match(*args)
        finished.append("match")
        return result

    monkeypatch.setattr(runtime.matcher, "match", blocked)
    with TestClient(create_app(settings, runtime)) as client:
        yield client, release, finished
        release.set()


def test_inference_past_the_timeout_answers_504(
    stuck: tuple[TestClient, threading.Event, list[str]],
) -> None:
    client, _release, finished = stuck
    start = time.monotonic()
    r = client.post("/v1/match", headers=AUTH, files=FILES)
    assert r.status_code == 504 and time.monotonic() - start < 5
    error = r.json()["error"]
    assert error["code"] == "timeout"
    assert "0.5 s" in error["message"] and "STYLETRACE_REQUEST_TIMEOUT_SECONDS" in error["message"]
    assert finished == []  # the thread is still at work: it cannot be killed


def test_abandoned_work_keeps_its_slot_until_it_ends(
    stuck: tuple[TestClient, threading.Event, list[str]],
) -> None:
    client, release, finished = stuck
    assert client.post("/v1/match", headers=AUTH, files=FILES).status_code == 504
    state = client.app.state  # type: ignore[attr-defined]
    state.settings.max_queue_wait_seconds = 0  # queue however long the wait looks
    state.service_time.observe(30.0)  # calls have lately taken 30 s
    waiting = client.post("/v1/match", headers=AUTH, files=FILES)  # the only worker is taken
    # found by QA: after waiting out the timeout it said "Retry-After: 1", inviting a storm
    assert waiting.status_code == 503 and waiting.headers["retry-after"] == "30"
    message = waiting.json()["error"]["message"]
    assert "no inference worker became free" in message and "about 30 s of work" in message
    release.set()
    deadline = time.monotonic() + 10
    while not finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert finished == ["match"]
    assert client.post("/v1/match", headers=AUTH, files=FILES).status_code == 200


def test_a_call_still_running_counts_before_any_has_ended(
    stuck: tuple[TestClient, threading.Event, list[str]],
) -> None:
    """Found by QA: before the first call had ended the expected wait read 0, so a burst
    after a start queued in full and waited out the timeout; the running call counts now."""
    client, _release, _finished = stuck
    assert client.post("/v1/match", headers=AUTH, files=FILES).status_code == 504
    client.app.state.settings.max_queue_wait_seconds = 0.3  # type: ignore[attr-defined]
    refused = client.post("/v1/match", headers=AUTH, files=FILES)  # the stuck call: 0.5 s+
    assert refused.status_code == 503  # at once: waiting out the timeout says otherwise
    assert "the server is busy" in refused.json()["error"]["message"]


def test_zero_timeout_waits_for_the_work(settings: Settings, runtime: Runtime) -> None:
    settings.request_timeout_seconds = 0
    with TestClient(create_app(settings, runtime)) as client:
        assert client.post("/v1/match", headers=AUTH, files=FILES).status_code == 200


def test_a_streamed_body_is_cut_off_before_it_is_all_sent(
    settings: Settings, runtime: Runtime
) -> None:
    """No Content-Length, 64 KiB chunks, 10 MiB offered against a 100,000-byte limit: the 413
    goes out after the limit plus multipart slack, and the rest is never asked for."""
    settings.max_upload_bytes = 100_000
    app = create_app(settings, runtime)
    chunk, offered = 65536, 160
    taken, sent = 0, []
    head = (
        b'--b\r\nContent-Disposition: form-data; name="image"; filename="q.png"\r\n'
        b"Content-Type: image/png\r\n\r\n"
    )

    async def receive() -> dict[str, Any]:
        nonlocal taken
        taken += 1
        body = head if taken == 1 else b"\0" * chunk
        return {"type": "http.request", "body": body, "more_body": taken < offered}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/match",
        "raw_path": b"/v1/match",
        "query_string": b"",
        "headers": [
            (b"authorization", AUTH["Authorization"].encode()),
            (b"content-type", b"multipart/form-data; boundary=b"),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    needed = (settings.max_upload_bytes + MULTIPART_SLACK) // chunk + 2
    assert taken <= needed < offered  # 3 chunks past the limit at most, not 160
