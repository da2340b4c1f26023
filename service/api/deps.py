"""What routes depend on: settings, the runtime, inference off the event loop (with a timeout),
and capped upload reading (declared Content-Length first, then counted bytes, so an oversized
upload is refused without being read into memory). Routes stay thin; resources live elsewhere."""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


class ServiceTime:
    """A moving average of one inference call's duration: what a request joining the queue
    can expect to wait, per call ahead of it. Calls still running count for as long as they
    have run, so the first burst after a start is not taken for free work."""

    def __init__(self, weight: float = 0.2) -> None:
        self._lock = threading.Lock()
        self.weight = weight
        self.seconds = 0.0
        self._running: dict[object, float] = {}  # call -> when it started

    def observe(self, seconds: float) -> None:
        with self._lock:
            step = 1.0 if self.seconds == 0.0 else self.weight
            self.seconds += step * (seconds - self.seconds)

    def begin(self, call: object) -> None:
        with self._lock:
            self._running[call] = time.perf_counter()

    def end(self, call: object) -> None:
        with self._lock:
            started = self._running.pop(call)
        self.observe(time.perf_counter() - started)

    def estimate(self) -> float:
        """Seconds per call: the average, or the longest a running call has taken so far."""
        with self._lock:
            now = time.perf_counter()
            return max([self.seconds, *(now - t for t in self._running.values())])


class InferenceThreads:
    """The app's inference threads, started on first use; shut down (waiting for work that a
    timed-out request abandoned) when the app stops, and started again if it is reused."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None

    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self.workers, thread_name_prefix="styletrace-inference"
            )
        return self._executor

    def shutdown(self) -> None:
        """Wait for running work to end; the next request starts new threads."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


@dataclass(frozen=True)
class Inference:
    """Runs decoding and model calls on the inference threads, at most `limiter` at a time.
    With every worker busy, a request that would wait behind `max_queued` others, or longer
    than `max_wait` seconds by the calls' recent duration, is answered 503 at once, with the
    expected wait as Retry-After, instead of waiting until its client gives up.

    With a `timeout` (STYLETRACE_REQUEST_TIMEOUT_SECONDS), a request that waited that long for a
    worker answers 503, and one whose work ran past it answers 504. A thread cannot be killed:
    the work goes on to its end and keeps its worker slot until then (so timed-out work never
    lets more than `limiter` jobs run), and its result is dropped. A registration that timed out
    may therefore still complete; repeating it is safe, since registration is idempotent."""

    limiter: anyio.CapacityLimiter
    seconds: Histogram
    stages: Histogram
    service: ServiceTime
    max_queued: int
    max_wait: float
    threads: InferenceThreads
    timeout: float = 0.0  # seconds; 0: wait as long as the work takes

    async def run(self, operation: str, fn: Callable[[], T]) -> T:
        self._admit()
        deadline = anyio.current_time() + (self.timeout or math.inf)
        slot = object()
        with anyio.move_on_after(self.timeout or None) as queue:
            await self.limiter.acquire_on_behalf_of(slot)
        if queue.cancelled_caught:
            wait = self._expected_wait()
            raise ApiError(
                503,
                "busy",
                f"no inference worker became free within {self.timeout:g} s "
                f"(STYLETRACE_REQUEST_TIMEOUT_SECONDS); about {wait:.0f} s of work is ahead",
                {"Retry-After": str(max(1, math.ceil(wait)))},
            )
        try:
            job = self._start(operation, fn, slot)
        except BaseException:
            self.limiter.release_on_behalf_of(slot)
            raise
        with anyio.move_on_after(deadline - anyio.current_time()) as running:
            return await asyncio.shield(job)
        assert running.cancelled_caught
        raise ApiError(
            504,
            "timeout",
            f"{operation} took longer than {self.timeout:g} s "
            "(STYLETRACE_REQUEST_TIMEOUT_SECONDS) and was abandoned; its result is discarded",
        )

    def _start(self, operation: str, fn: Callable[[], T], slot: object) -> asyncio.Future[T]:
        """Run fn on a worker thread (with this request's context, for its log lines); the slot
        is given back when fn ends, whether or not anyone still waits for it."""

        def timed() -> T:
            self.service.begin(slot)
            try:
                with self.seconds.labels(operation).time(), recording(self._observe):
                    return fn()
            finally:
                self.service.end(slot)

        def finished(job: asyncio.Future[T]) -> None:
            self.limiter.release_on_behalf_of(slot)
            if not job.cancelled():
                job.exception()  # retrieved, so an abandoned failure is not reported as lost

        context = contextvars.copy_context()
        executor = self.threads.executor()
        job = asyncio.get_running_loop().run_in_executor(executor, context.run, timed)
        job.add_done_callback(finished)
        return job

    def _admit(self) -> None:
        """Refuse at once when the backlog is full or would take too long to clear."""
        if self.limiter.available_tokens >= 1:
            return
        waiting = self.limiter.statistics().tasks_waiting
        wait = self._expected_wait()
        if waiting < self.max_queued and not (self.max_wait and wait > self.max_wait):
            return
        retry = max(1, math.ceil(wait))
        raise ApiError(
            503,
            "busy",
            f"the server is busy: {waiting} requests are waiting, about {wait:.0f} s of work "
            f"ahead (limits: STYLETRACE_MAX_QUEUED_REQUESTS={self.max_queued}, "
            f"STYLETRACE_MAX_QUEUE_WAIT_SECONDS={self.max_wait:g}); retry in {retry} s",
            {"Retry-After": str(retry)},
        )

    def _expected_wait(self) -> float:
        """Seconds a request joining the queue now can expect to wait for a worker."""
        waiting = self.limiter.statistics().tasks_waiting
        return (waiting + 1) * self.service.estimate() / max(1, self.limiter.total_tokens)

    def _observe(self, stage: str, seconds: float) -> None:
        self.stages.labels(stage).observe(seconds)


def get_inference(request: Request) -> Inference:
    state = request.app.state
    metrics, settings = state.metrics, state.settings
    return Inference(
        state.limiter,
        metrics.inference,
        metrics.stages,
        state.service_time,
        settings.max_queued_requests,
        settings.max_queue_wait_seconds,
        state.inference_threads,
        settings.request_timeout_seconds,
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
