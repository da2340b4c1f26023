"""What routes depend on: settings, the runtime, inference off the event loop,
and capped upload reading (declared Content-Length first, then counted bytes, so an oversized
upload is refused without being read into memory). Routes stay thin; resources live elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request, UploadFile
from prometheus_client import Histogram
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.stages import recording
from service.api.errors import ApiError, error_response
from service.runtime import Runtime
from service.settings import Settings

T = TypeVar("T")
CHUNK = 1 << 20
MULTIPART_SLACK = 64 * 1024  # boundaries, part headers and small fields around the file
MAX_OFFSET = 2**63 - 1  # offsets and sequence numbers reach the database as 64-bit integers


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime | None = request.app.state.runtime
    if runtime is None:
        raise ApiError(
            503,
            "not_ready",
            "not ready: the models and index are still loading",
            {"Retry-After": "5"},
        )
    return runtime


@dataclass(frozen=True)
class Inference:
    """Runs decoding and model calls in worker threads, at most `limiter` at a time, with at
    most `max_queued` requests waiting: past that the answer is 503 with Retry-After, at
    once, instead of a request that waits until its client gives up."""

    limiter: anyio.CapacityLimiter
    seconds: Histogram
    stages: Histogram
    max_queued: int

    async def run(self, operation: str, fn: Callable[[], T]) -> T:
        waiting = self.limiter.statistics().tasks_waiting
        if self.limiter.available_tokens < 1 and waiting >= self.max_queued:
            raise ApiError(
                503,
                "busy",
                f"the server is busy ({waiting} requests already waiting, the limit is "
                f"STYLETRACE_MAX_QUEUED_REQUESTS={self.max_queued}); retry shortly",
                {"Retry-After": "1"},
            )

        def timed() -> T:
            with self.seconds.labels(operation).time(), recording(self._observe):
                return fn()

        return await anyio.to_thread.run_sync(timed, limiter=self.limiter)

    def _observe(self, stage: str, seconds: float) -> None:
        self.stages.labels(stage).observe(seconds)


def get_inference(request: Request) -> Inference:
    state = request.app.state
    metrics = state.metrics
    return Inference(
        state.limiter, metrics.inference, metrics.stages, state.settings.max_queued_requests
    )


def upload_too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413,
        "upload_too_large",
        f"the upload is larger than the limit of {max_bytes} bytes (STYLETRACE_MAX_UPLOAD_BYTES)",
    )


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """The file's bytes; stops reading as soon as more than `max_bytes` arrived."""
    if upload.size is not None and upload.size > max_bytes:
        raise upload_too_large(max_bytes)
    chunks: list[bytes] = []
    total = 0
    while chunk := await upload.read(min(CHUNK, max_bytes + 1 - total)):
        total += len(chunk)
        if total > max_bytes:
            raise upload_too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


class BodyCap:
    """ASGI middleware: refuses request bodies beyond the upload limit plus multipart slack,
    at once when Content-Length says so, else as soon as that many bytes have arrived."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.settings.max_upload_bytes
        limit = max_bytes + MULTIPART_SLACK
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            exc = upload_too_large(max_bytes)
            await error_response(413, exc.code, exc.detail)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise upload_too_large(max_bytes)
            return message

        await self.app(scope, counted, send)
