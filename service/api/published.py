"""`GET /v1/published/{work_id}`: the work's traceable published copy (watermark, metadata,
C2PA manifest; service/publish.py). Admins and the work's own creator may publish it (it
assigns a payload id and is audited); others get 403, another creator's work the same 404
as a missing one. Fields the copy could not carry are named in `X-Styletrace-Skipped`."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Response

from service.api.auth import Caller, allow
from service.api.deps import Inference, get_inference, get_runtime
from service.api.works import visible_work
from service.publish import Published, load_or_create_secret, publish
from service.runtime import Runtime
from service.schemas import ErrorResponse

router = APIRouter(prefix="/v1/published", tags=["works"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}},
        "description": "the published copy; headers X-Styletrace-Payload-Id and "
        "X-Styletrace-Skipped (`field: reason; ...`, empty when nothing was skipped)",
    },
    404: {"model": ErrorResponse},
}


def skipped_header(published: Published) -> str:
    """`field: reason; ...` in ASCII (headers are latin-1)."""
    text = "; ".join(f"{k}: {v}" for k, v in published.skipped.items())
    return text.encode("ascii", "replace").decode()


@router.get("/{work_id:path}", response_class=Response, responses=RESPONSES)
async def published_copy(
    work_id: str,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    inference: Annotated[Inference, Depends(get_inference)],
    caller: Caller,
) -> Response:
    """A copy of the work carrying its watermark and persistent metadata."""
    allow(caller, "admin", "creator")
    work = visible_work(runtime, caller, work_id)
    settings = runtime.settings

    def make() -> Published:
        secret = load_or_create_secret(settings.watermark_secret_path)
        return publish(
            runtime.library, work, secret, settings.watermark_method, runtime.c2pa, caller.actor
        )

    done = await inference.run("publish", make)
    headers = {
        "Content-Disposition": attachment(done.filename),
        "X-Styletrace-Payload-Id": str(done.payload_id),
        "X-Styletrace-Skipped": skipped_header(done),
        "Cache-Control": "no-store",
    }
    return Response(done.data, media_type=done.media_type, headers=headers)


def attachment(filename: str) -> str:
    """A Content-Disposition for any file name: an ASCII stand-in (headers are Latin-1, and
    a quote would end the value) and the name itself as RFC 6266's UTF-8 `filename*`."""
    plain = re.sub(r'[^\x20-\x7e]|["\\]', "_", filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
