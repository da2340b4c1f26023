"""Per-caller rate limits: a token bucket per API key id (STYLETRACE_RATE_LIMIT_PER_MINUTE,
refilled continuously, up to STYLETRACE_RATE_LIMIT_BURST at once), and one per client IP for
requests without a valid key. Past it the answer is 429 with Retry-After, before the body is
read. Operations endpoints and the files of the web page and of /docs are exempt; 0 per
minute disables limits."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from time import monotonic

import anyio.to_thread
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.auth import identify
from service.api.errors import error_response
from service.runtime import Runtime
from service.settings import Settings

EXEMPT = ("/healthz", "/readyz", "/metrics")
STATIC = ("/web/", "/static-offline-docs/")  # the web page's files, /docs' scripts
MAX_BUCKETS = 100_000  # callers remembered at once; the least recently seen are forgotten


@dataclass
class TokenBucket:
    """`burst` tokens at most, refilled at `per_second`; each request takes one."""

    burst: float
    per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token: 0 when one was there, else the seconds until one will be."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class RateLimiter:
    """Token buckets by caller ("key:<id>" or "ip:<address>"), least recently used forgotten."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.per_second = per_minute / 60
        self.burst = float(max(1, burst))
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def wait(self, caller: str, now: float | None = None) -> float:
        """Seconds `caller` must wait before this request may go on (0: go on now)."""
        now = monotonic() if now is None else now
        bucket = self.buckets.pop(caller, None) or TokenBucket(
            self.burst, self.per_second, self.burst, now
        )
        self.buckets[caller] = bucket  # most recently used last
        while len(self.buckets) > MAX_BUCKETS:
            self.buckets.popitem(last=False)
        return bucket.take(now)


def exempt(path: str) -> bool:
    return path == "/" or path in EXEMPT or path.startswith(STATIC)


class RateLimit:
    """ASGI middleware: 429 with Retry-After once a caller's bucket is empty."""

    def __init__(self, app: ASGIApp, settings: Settings, limiter: RateLimiter) -> None:
        self.app = app
        self.settings = settings
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled or exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        caller = await self._caller(scope)
        wait = self.limiter.wait(caller)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            who = "this API key" if caller.startswith("key:") else "this address without a key"
            message = (
                f"too many requests from {who}: the limit is "
                f"{self.settings.rate_limit_per_minute:g} a minute, "
                f"{self.settings.rate_limit_burst} at once "
                "(STYLETRACE_RATE_LIMIT_PER_MINUTE, STYLETRACE_RATE_LIMIT_BURST); "
                f"retry in {retry} s"
            )
            response = error_response(429, "rate_limited", message, {"Retry-After": str(retry)})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _caller(self, scope: Scope) -> str:
        """ "key:<key id>" for a valid key, else "ip:<client address>"."""
        scheme, secret = get_authorization_scheme_param(Headers(scope=scope).get("authorization"))
        app = scope.get("app")
        runtime: Runtime | None = getattr(getattr(app, "state", None), "runtime", None)
        if scheme.lower() == "bearer" and secret and runtime is not None:
            principal = await anyio.to_thread.run_sync(identify, self.settings, runtime, secret)
            if principal is not None:
                return f"key:{principal.key_id}"
        client = scope.get("client")
        return f"ip:{client[0] if client else 'unknown'}"
