"""`GET /v1/thumbnails/{work_id}`: a registered work's preview as PNG, for pages that show
matches next to the query. Visible to the same keys as the work itself (admins, reviewers,
the work's creator); the id goes last since it contains '/'."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response

from indexer.errors import WorkNotFound
from service.api.auth import Caller, allow
from service.api.deps import Inference, get_inference, get_runtime
from service.api.works import visible_work
from service.runtime import Runtime
from service.schemas import ErrorResponse
from service.thumbnails import png_bytes, thumbnail, work_image

router = APIRouter(prefix="/v1/thumbnails", tags=["works"])
PNG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "the preview"},
    304: {"description": "unchanged since the ETag sent in If-None-Match"},
    404: {"model": ErrorResponse},
}


@router.get("/{work_id:path}", response_class=Response, responses=PNG)
async def work_thumbnail(
    work_id: str,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    inference: Annotated[Inference, Depends(get_inference)],
    caller: Caller,
    size: Annotated[int, Query(ge=16, le=512, description="longest side in pixels")] = 256,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The work's original scaled to at most `size` pixels a side."""
    allow(caller, "admin", "reviewer", "creator")
    work = visible_work(runtime, caller, work_id)
    etag = f'"{work.sha256[:32]}-{size}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if if_none_match == etag:
        return Response(status_code=304, headers=headers)

    def render() -> bytes:
        image = work_image(runtime.library, work.work_id)
        if image is None:
            raise WorkNotFound(f"the original of {work.work_id!r} is no longer stored")
        return png_bytes(thumbnail(image, size))

    data = await inference.run("thumbnail", render)
    return Response(data, media_type="image/png", headers=headers)
