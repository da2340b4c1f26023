"""Rate limits: a token bucket per API key, one per client address for requests without a valid
key (so inventing keys does not help), 429 with Retry-After before the body is read, and the
operations endpoints and web page exempt."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from service.api import ratelimit
from service.api.app import create_app
from service.api.ratelimit import RateLimiter, TokenBucket
from service.runtime import Runtime
from service.settings import Settings
from tests.service.http import AUTH, art, bearer, new_key


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """No token refills while a test runs, however slowly the machine runs it (a bucket
    refills one token a second at 60 a minute)."""
    monkeypatch.setattr(ratelimit, "monotonic", lambda: 1000.0)


@pytest.fixture
def limited(settings: Settings, runtime: Runtime) -> TestClient:
    settings.rate_limit_per_minute, settings.rate_limit_burst = 60, 3
    return TestClient(create_app(settings, runtime))


def statuses(client: TestClient, n: int, path: str = "/v1/me", **kwargs: object) -> list[int]:
    return [client.get(path, **kwargs).status_code for _ in range(n)]  # type: ignore[arg-type]


def test_a_key_past_its_burst_gets_429_with_retry_after(limited: TestClient) -> None:
    assert statuses(limited, 3, headers=AUTH) == [200, 200, 200]
    refused = limited.get("/v1/me", headers=AUTH)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert (
        "60 a minute" in error["message"] and "STYLETRACE_RATE_LIMIT_PER_MINUTE" in error["message"]
    )


def test_each_key_has_its_own_bucket(settings: Settings, runtime: Runtime) -> None:
    settings.rate_limit_per_minute, settings.rate_limit_burst = 60, 2
    client = TestClient(create_app(settings, runtime))
    platform = bearer(new_key(client, "platform"))  # the admin key's first token
    assert statuses(client, 3, headers=platform) == [200, 200, 429]
    assert statuses(client, 2, headers=AUTH) == [200, 429]  # one token left after new_key


def test_requests_without_a_valid_key_share_their_address_bucket(limited: TestClient) -> None:
    """Random keys would each get a fresh bucket if buckets were per presented secret."""
    answers = [
        limited.get("/v1/me", headers={"Authorization": f"Bearer guess-{i}"}).status_code
        for i in range(3)
    ]
    assert answers == [401, 401, 401]
    assert limited.get("/v1/me").status_code == 429  # no key at all: the same address
    assert limited.get("/v1/me", headers={"Authorization": "Bearer guess-9"}).status_code == 429
    assert limited.get("/v1/me", headers=AUTH).status_code == 200  # a valid key is its own


def test_operations_endpoints_and_the_web_page_are_exempt(limited: TestClient) -> None:
    docs = "/static-offline-docs/swagger-ui.css"
    for path in ("/healthz", "/readyz", "/metrics", "/", "/web/app.js", docs):
        assert 429 not in statuses(limited, 8, path), path


def test_zero_per_minute_disables_the_limits(settings: Settings, runtime: Runtime) -> None:
    settings.rate_limit_per_minute, settings.rate_limit_burst = 0, 1
    client = TestClient(create_app(settings, runtime))
    assert set(statuses(client, 30, headers=AUTH)) == {200}


def test_a_limited_upload_is_refused_before_its_body_is_read(
    settings: Settings, runtime: Runtime
) -> None:
    settings.rate_limit_per_minute, settings.rate_limit_burst = 1, 1
    app = create_app(settings, runtime)
    client = TestClient(app)
    files = {"image": ("q.png", art("alice", 1), "image/png")}
    assert client.post("/v1/match", headers=AUTH, files=files).status_code == 200
    chunks = 0

    async def receive() -> dict[str, object]:
        nonlocal chunks
        chunks += 1
        return {"type": "http.request", "body": b"\0" * 65536, "more_body": True}

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
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
        ],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 429 and chunks == 0


def test_a_bucket_refills_continuously_up_to_its_burst() -> None:
    bucket = TokenBucket(burst=2, per_second=1.0, tokens=2, updated=0.0)
    assert [bucket.take(0.0), bucket.take(0.0)] == [0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(1.0)  # empty: one second to the next token
    assert bucket.take(0.5) == pytest.approx(0.5)
    assert bucket.take(1.0) == 0.0
    assert bucket.take(100.0) == 0.0 and bucket.tokens == pytest.approx(1.0)  # capped at 2


def test_the_limiter_forgets_the_least_recently_seen_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ratelimit, "MAX_BUCKETS", 3)
    limiter = RateLimiter(per_minute=60, burst=1)
    for caller in ("a", "b", "c", "a", "d"):
        limiter.wait(caller, now=0.0)
    assert list(limiter.buckets) == ["c", "a", "d"]
    assert limiter.wait("a", now=0.0) > 0 and limiter.wait("b", now=0.0) == 0
