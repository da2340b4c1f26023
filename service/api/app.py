"""`create_app(settings, runtime=None)`: assembles the FastAPI app (routers, error handlers,
middleware, per-app metrics). Nothing is built at import time; without a runtime the
lifespan builds one from the settings, off the event loop, and saves the index on shutdown
once the inference threads are done."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from service.api import (
    audit,
    claims,
    creators,
    errors,
    keys,
    match,
    ops,
    published,
    scans,
    terms,
    thumbnails,
    web,
    works,
)
from service.api.deps import BodyCap, InferenceThreads, ServiceTime
from service.api.ratelimit import RateLimit, RateLimiter
from service.api.tracing import RequestLog
from service.runtime import Runtime, build_runtime
from service.scan_jobs import ScanJobs
from service.settings import Settings

log = logging.getLogger(__name__)


def _warm(runtime: Runtime) -> Runtime:
    """Load model weights now, so the first request does not pay for it."""
    for embedder in runtime.library.embedders.values():
        embedder.load()
    return runtime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    owned = app.state.runtime is None
    if owned:
        log.info("loading models and index from %s", settings.data_dir)
        app.state.runtime = await anyio.to_thread.run_sync(build_runtime, settings)
    runtime: Runtime = await anyio.to_thread.run_sync(_warm, app.state.runtime)
    app.state.scans = ScanJobs(runtime)
    log.info("ready: %d works, index %s", len(runtime.library), runtime.library.snapshot_id)
    try:
        yield
    finally:
        # Work abandoned by a timed-out request still finishes before the index is saved.
        await anyio.to_thread.run_sync(app.state.inference_threads.shutdown)
        if owned:
            await anyio.to_thread.run_sync(runtime.library.save)
            app.state.runtime = None


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """The HTTP API; pass a runtime to serve one built elsewhere (tests, `styletrace demo`)."""
    app = FastAPIOffline(  # /docs loads its scripts from this server, not a CDN
        redoc_url=None,  # ReDoc's page fetches its logo from its CDN; /docs is the one
        title="styletrace",
        description="Does an image copy a registered work, or imitate a registered "
        "creator's style? Calibrated verdicts with evidence.",
        version="0.1.0",
        lifespan=lifespan,
    )
    metrics = ops.Metrics.create()
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.scans = None  # built with the runtime, in the lifespan
    app.state.limiter = limiter = anyio.CapacityLimiter(settings.inference_workers)
    app.state.service_time = ServiceTime()
    app.state.inference_threads = InferenceThreads(settings.inference_workers)
    metrics.queued.set_function(lambda: limiter.statistics().tasks_waiting)
    app.state.metrics = metrics
    errors.install(app)
    # Outermost last: the request id and access log, metrics, rate limits, then the body cap.
    app.add_middleware(BodyCap, settings=settings)
    limits = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    app.add_middleware(RateLimit, settings=settings, limiter=limits)
    app.add_middleware(ops.RequestMetrics, metrics=metrics)
    app.add_middleware(RequestLog)
    app.include_router(ops.router)
    for router in (
        works.router,
        creators.router,
        match.router,
        terms.router,
        keys.router,
        keys.me_router,
        audit.router,
        claims.router,
        thumbnails.router,
        published.router,
        scans.router,
    ):
        app.include_router(router)  # every /v1 route takes its Caller (service/api/auth.py)
    web.install(app)
    return app
