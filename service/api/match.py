"""`POST /v1/match`: one uploaded image in, the match result of DESIGN.md out (content and
style answered separately, each with a calibrated verdict). Decoding and models run off the
event loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile

from models.images import load_image_bytes
from service.api.auth import Caller
from service.api.deps import Inference, get_inference, get_runtime, get_settings, read_upload
from service.api.errors import ApiError
from service.api.forms import ONCE
from service.runtime import Runtime
from service.schemas import ErrorResponse, MatchResult
from service.scoping import restrict
from service.settings import Settings

router = APIRouter(tags=["match"])


@router.post(
    "/v1/match",
    dependencies=ONCE,
    responses={
        400: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
        415: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
    },
)
async def match(
    image: Annotated[UploadFile, File(description="the image to check")],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Annotated[Settings, Depends(get_settings)],
    inference: Annotated[Inference, Depends(get_inference)],
    caller: Caller,
    top_k: Annotated[
        int | None,
        Form(
            ge=1,
            description="matches per list; default from settings, at most STYLETRACE_MAX_TOP_K",
        ),
    ] = None,
) -> MatchResult:
    """Does this image copy a registered work, or imitate a registered creator's style? A
    creator key sees its own creator's matches only."""
    if top_k is not None and top_k > settings.max_top_k:
        raise ApiError(
            422,
            "invalid_request",
            f"form field 'top_k' must be between 1 and {settings.max_top_k}, got {top_k}",
        )
    data = await read_upload(image, settings.max_upload_bytes)
    options = runtime.options(top_k, caller.creator_id)

    def run() -> MatchResult:
        query = load_image_bytes(data, settings.limits)
        result = runtime.matcher.match([query], options)[0]
        return restrict(result, caller.creator_id) if caller.creator_id else result

    return await inference.run("match", run)
