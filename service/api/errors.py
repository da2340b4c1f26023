"""The one place where errors become HTTP responses, all shaped
`{"error": {"code": ..., "message": ...}}`: domain exceptions from models/ and indexer/,
request validation, HTTP errors (including unknown routes and wrong methods) and, last,
anything unexpected (500, generic message, traceback logged)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from indexer.claims import ClaimConflict, ClaimNotFound
from indexer.errors import CreatorNotFound, InvalidId, WorkConflict, WorkNotFound
from indexer.keys import KeyNotFound
from indexer.published import PayloadIdsExhausted
from models.errors import FeaturelessImage, ImageError, ImageTooLarge, UnsupportedImage
from service.api.tracing import HEADER, request_id
from service.claims import EvidenceMissing, InvalidReason, MoveForbidden, NotClaimable
from service.scan_jobs import ScanNotCancellable, ScanNotFound, ScanNotResumable, ScanPathError
from service.schemas import ErrorBody, ErrorResponse

log = logging.getLogger(__name__)

# Most specific first: the first matching class decides the status and code.
DOMAIN_ERRORS: tuple[tuple[type[Exception], int, str], ...] = (
    (ImageTooLarge, 413, "image_too_large"),
    (UnsupportedImage, 415, "unsupported_image"),
    (FeaturelessImage, 422, "featureless_image"),
    (ImageError, 400, "invalid_image"),
    (InvalidId, 422, "invalid_id"),
    (WorkNotFound, 404, "work_not_found"),
    (CreatorNotFound, 404, "creator_not_found"),
    (WorkConflict, 409, "work_conflict"),
    (PayloadIdsExhausted, 409, "payload_ids_exhausted"),
    (KeyNotFound, 404, "key_not_found"),
    (ClaimNotFound, 404, "claim_not_found"),
    (ClaimConflict, 409, "claim_conflict"),
    (NotClaimable, 422, "not_claimable"),
    (EvidenceMissing, 404, "evidence_missing"),
    (InvalidReason, 422, "invalid_request"),
    (MoveForbidden, 403, "forbidden"),
    (ScanPathError, 422, "invalid_path"),
    (ScanNotFound, 404, "scan_not_found"),
    (ScanNotResumable, 409, "scan_not_resumable"),
    (ScanNotCancellable, 409, "scan_not_cancellable"),
)
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "upload_too_large",
    422: "invalid_request",
    429: "rate_limited",
    503: "not_ready",
}
MAX_MESSAGE = 500  # characters: a message quotes the input, never all of a 10,000-character id
NOT_AN_OBJECT = frozenset({"model_attributes_type", "model_type", "dict_type"})
PLACES = {
    "body": "form field",
    "query": "query parameter",
    "path": "path parameter",
    "header": "header",
}


class ApiError(HTTPException):
    """An HTTP error raised by the API itself, with a stable machine-readable code."""

    def __init__(
        self, status_code: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status_code, message, headers)
        self.code = code


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=clip(message)))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def clip(message: str) -> str:
    """The message, cut to MAX_MESSAGE characters with a mark where it was cut."""
    if len(message) <= MAX_MESSAGE:
        return message
    return message[: MAX_MESSAGE - 14] + " ... (cut off)"


def status_code_name(status: int) -> str:
    """`not_found` for 404: the code of an HTTP error that carries none of its own."""
    if status in STATUS_CODES:
        return STATUS_CODES[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    for cls, status, code in DOMAIN_ERRORS:
        if isinstance(exc, cls):
            return error_response(status, code, str(exc))
    return await unexpected_error(request, exc)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = exc.code if isinstance(exc, ApiError) else status_code_name(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's "error parsing the body"
        return error_response(422, "invalid_request", undecodable(exc.__cause__))
    if exc.status_code == 404 and not isinstance(exc, ApiError):
        detail = f"no route {request.method} {request.url.path}; see /docs"
    elif exc.status_code == 405 and not isinstance(exc, ApiError):
        detail = f"{request.method} is not allowed on {request.url.path}"
    return error_response(exc.status_code, code, detail, exc.headers)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    files, form = _body_fields(request)
    message = "; ".join(describe(e, files, form) for e in exc.errors())
    return error_response(422, "invalid_request", message or "invalid request")


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    rid = request_id.get()  # this answer leaves outside the middleware that adds the header
    return error_response(
        500,
        "internal_error",
        "internal error; it has been logged, please retry or report it",
        {HEADER: rid} if rid else None,
    )


def describe(error: Mapping[str, Any], files: set[str], form: bool = True) -> str:
    """One validation error as a sentence naming the field: "form field 'top_k': ...", or
    "JSON field 'reason': ..." where the route reads a JSON body (`form` False)."""
    loc: Sequence[Any] = error.get("loc", ())
    if error.get("type") == "json_invalid":  # its loc holds a character offset, not a field
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        reason = (error.get("ctx") or {}).get("error", error.get("msg", "invalid"))
        return f"the request body is not valid JSON{at}: {reason}"
    place = PLACES.get(str(loc[0]), str(loc[0])) if loc else "request"
    if place == "form field" and not form:
        place = "JSON field"
    name = ".".join(str(p) for p in loc[1:])
    if name in files and place == "form field":
        return f"form field {name!r} (a file) is required"
    if not name and place == "JSON field":  # the body as a whole
        if error.get("type") in NOT_AN_OBJECT:  # a form, a list, a string...
            return (
                "the request body must be a JSON object, sent with Content-Type: "
                f"application/json ({error.get('msg', 'invalid')})"
            )
        return f"the request body: {str(error.get('msg', 'invalid')).removeprefix('Value error, ')}"
    if not name:
        return f"{place}: {error.get('msg', 'invalid')}"
    if error.get("type") == "missing":
        return f"{place} {name!r} is required"
    return f"{place} {name!r}: {str(error.get('msg', 'invalid')).removeprefix('Value error, ')}"


def undecodable(error: UnicodeDecodeError) -> str:
    """A JSON body that is not UTF-8, said as broken JSON is (FastAPI says only "There was
    an error parsing the body")."""
    byte = error.object[error.start : error.start + 1].hex()
    return (
        f"the request body is not valid JSON at byte {error.start}: 0x{byte} is not UTF-8 "
        "(send JSON encoded as UTF-8)"
    )


def _body_fields(request: Request) -> tuple[set[str], bool]:
    """Names of the matched route's file upload fields, so their errors can say so, and
    whether its body is a form (else JSON)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    body_params = getattr(dependant, "body_params", [])
    files = {p.alias for p in body_params if isinstance(p.field_info, params.File)}
    form = not body_params or any(isinstance(p.field_info, params.Form) for p in body_params)
    return files, form


def install(app: FastAPI) -> None:
    """Register every handler on the app."""
    for cls, _status, _code in DOMAIN_ERRORS:
        app.add_exception_handler(cls, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
