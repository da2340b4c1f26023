"""Request ids and structured logs: every request gets an id (a sane incoming X-Request-ID, else
a new one), echoed in the response header and attached to every log line written while it runs;
one access line per request says what was asked and answered, never with headers, query strings
or bodies, so neither key secrets nor uploaded bytes reach the logs."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, TextIO

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # what a proxy or client id may look like
ACCESS_FIELDS = ("method", "route", "path", "status", "duration_ms", "key_id", "client")
UNMATCHED = "<unmatched>"
QUIET = ("PIL", "multipart", "python_multipart")  # their DEBUG lines quote upload contents

request_id: ContextVar[str | None] = ContextVar("styletrace_request_id", default=None)
log = logging.getLogger("styletrace.access")


def new_request_id(incoming: str | None) -> str:
    """The caller's id when it is sane (bounded, no spaces or control characters), else new."""
    if incoming is not None and SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and access fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        entry.update({k: getattr(record, k) for k in ACCESS_FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Send every logger (uvicorn's too) through one JSON handler (stderr by default). Image and
    form parsers stay at WARNING whatever the level: at DEBUG they log what uploads contain."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


class RequestLog:
    """ASGI middleware (outermost): assigns the request id, echoes it in the X-Request-ID
    header and writes one access line per request when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id(Headers(scope=scope).get(HEADER))
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id.set(rid)
        start, status = perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            # The id stays set for the 500 handler outside this middleware, which logs the error
            # and answers with the id; the context is this request's task's alone.
            self._access(scope, 500, perf_counter() - start)
            raise
        self._access(scope, status, perf_counter() - start)
        request_id.reset(token)

    @staticmethod
    def _access(scope: Scope, status: int, seconds: float) -> None:
        client = scope.get("client")
        route = getattr(scope.get("route"), "path", None)
        fields = {
            "method": str(scope["method"]),
            "route": route or UNMATCHED,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "key_id": scope.get("state", {}).get("key_id"),
            "client": client[0] if client else None,
        }
        if route is None:  # refused before routing (a 413 on the declared size), or unknown:
            fields["path"] = ascii(str(scope.get("path", "")))[1:-1][:200]  # what was asked
        level = logging.ERROR if status >= 500 else logging.INFO
        log.log(level, "%s %s %d", fields["method"], fields["route"], status, extra=fields)
