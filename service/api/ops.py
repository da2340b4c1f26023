"""Operations endpoints (no auth): liveness `/healthz`, readiness `/readyz` and Prometheus
`/metrics`, with the per-app metrics registry and the middleware that counts requests.
Each app has its own CollectorRegistry so several apps can live in one process (tests)."""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import ApiError
from service.runtime import Runtime

router = APIRouter(tags=["operations"])
UNMATCHED = "<unmatched>"  # one label for every unknown path, so typos cannot explode series


@dataclass(frozen=True)
class Metrics:
    """The app's Prometheus collectors, all in one registry."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    inference: Histogram
    stages: Histogram
    works: Gauge
    queued: Gauge

    @classmethod
    def create(cls) -> Metrics:
        reg = CollectorRegistry()
        return cls(
            registry=reg,
            requests=Counter(
                "styletrace_http_requests",
                "HTTP requests answered",
                ["route", "method", "status"],
                registry=reg,
            ),
            latency=Histogram(
                "styletrace_http_request_seconds",
                "HTTP request latency",
                ["route", "method"],
                registry=reg,
            ),
            inference=Histogram(
                "styletrace_inference_seconds",
                "Decoding and model time per request",
                ["operation"],
                registry=reg,
            ),
            stages=Histogram(
                "styletrace_stage_seconds",
                "Time per stage of one request's work (decode, preprocess, model:NAME, search, "
                "keypoints, verify, scoring, ...), nested stages excluded",
                ["stage"],
                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
                registry=reg,
            ),
            works=Gauge("styletrace_works", "Active registered works", registry=reg),
            queued=Gauge(
                "styletrace_inference_queued",
                "Requests waiting for an inference worker",
                registry=reg,
            ),
        )


class RequestMetrics:
    """ASGI middleware: counts each request by route template, method and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = perf_counter(), 500  # stays 500 if the app raises before answering

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = str(scope["method"])
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(perf_counter() - start)


class Readiness(BaseModel):
    status: str
    works: int
    index: str
    models: dict[str, str]


def _runtime(request: Request) -> Runtime | None:
    runtime = getattr(request.app.state, "runtime", None)
    return runtime if isinstance(runtime, Runtime) else None


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get(
    "/signing-key.pem",
    response_class=PlainTextResponse,
    responses={503: {"description": "still loading"}},
)
def signing_key(request: Request) -> str:
    """The service's Ed25519 public key (PEM): what `styletrace verify --public-key` checks
    receipts and evidence packets against, to insist on this service's signature."""
    runtime = _runtime(request)
    if runtime is None:
        raise ApiError(503, "not_ready", "not ready: still loading", {"Retry-After": "5"})
    return runtime.signer.public_key


@router.get("/readyz", responses={503: {"description": "still loading"}})
def readyz(request: Request) -> Readiness:
    """Readiness: models and index are loaded; says which ones and how many works."""
    runtime = _runtime(request)
    if runtime is None:
        raise ApiError(
            503,
            "not_ready",
            "not ready: the models and index are still loading",
            {"Retry-After": "5"},
        )
    library = runtime.library
    library.refresh()  # a CLI beside the server may have registered or removed meanwhile
    return Readiness(
        status="ready", works=len(library), index=library.snapshot_id, models=library.model_ids
    )


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus text format."""
    collectors: Metrics = request.app.state.metrics
    runtime = _runtime(request)
    if runtime is not None:
        runtime.library.refresh()
        collectors.works.set(len(runtime.library))
    return Response(generate_latest(collectors.registry), media_type=CONTENT_TYPE_LATEST)
