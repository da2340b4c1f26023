"""`/v1/claims` and `/v1/evidence`: file a claim from an image (creators for themselves,
admins for anyone), list and read claims (creators their own; platforms, reviewers and admins
all), move them through their lifecycle, and download evidence packets (a claim's, or one
made on demand for any match)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, Field

from indexer.claims import Claim, ClaimNotFound
from indexer.ids import check_creator_id
from models.images import load_image_bytes
from service.api.auth import Caller, Principal, allow
from service.api.deps import Inference, get_inference, get_runtime, get_settings, read_upload
from service.api.errors import ApiError
from service.api.forms import ONCE
from service.claims import MAX_REASON, Action, Kind, file_claim, move_claim, stored_evidence
from service.evidence import build_packet
from service.records import ClaimOut, claim_out
from service.runtime import Runtime
from service.schemas import ErrorResponse
from service.scoping import restrict
from service.settings import Settings

router = APIRouter(tags=["claims"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ZIP: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "the evidence packet"}
}


class ClaimList(BaseModel):
    claims: list[ClaimOut]
    next_after: str | None = Field(
        None, description="the page's last claim id, to pass as `after`; null on the last page"
    )


class MoveIn(BaseModel):
    reason: str = Field(
        min_length=1, max_length=MAX_REASON, description="why, for the record (one line or more)"
    )


def visible_claim(runtime: Runtime, caller: Principal, claim_id: str) -> Claim:
    """The claim, or the same 404 as a missing one when it is another creator's."""
    claim = runtime.library.claims.get(claim_id)
    if not caller.sees_creator(claim.creator_id):
        raise ClaimNotFound(f"no claim with id {claim_id[:40]!r}")
    return claim


@router.post(
    "/v1/claims",
    status_code=201,
    dependencies=ONCE,
    responses={403: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
async def create_claim(
    image: Annotated[UploadFile, File(description="the image that copies or imitates")],
    kind: Annotated[Kind, Form(description="revshare or takedown")],
    runtime: RuntimeDep,
    settings: Annotated[Settings, Depends(get_settings)],
    inference: Annotated[Inference, Depends(get_inference)],
    caller: Caller,
    creator_id: Annotated[
        str | None, Form(description="on whose behalf; a creator key's own by default")
    ] = None,
) -> ClaimOut:
    """File a claim: the image is matched now, and must match the creator's works."""
    allow(caller, "admin", "creator")
    creator = creator_id or caller.creator_id
    if creator is None:
        raise ApiError(422, "invalid_request", "form field 'creator_id' is required")
    check_creator_id(creator)
    if not caller.sees_creator(creator):
        raise ApiError(403, "forbidden", "a creator key files claims for its own creator only")
    data = await read_upload(image, settings.max_upload_bytes)

    def run() -> Claim:
        query = load_image_bytes(data, settings.limits)
        return file_claim(runtime, query, data, kind, creator, caller.actor)[0]

    return claim_out(await inference.run("claim", run))


@router.get("/v1/claims")
def list_claims(
    runtime: RuntimeDep,
    caller: Caller,
    status: Annotated[
        Literal["open", "disputed", "upheld", "rejected", "withdrawn"] | None, Query()
    ] = None,
    creator_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[
        str | None,
        Query(description="list after this claim id (a page's `next_after`)", max_length=200),
    ] = None,
) -> ClaimList:
    """Claims, newest first; a creator key sees its own creator's only. Walk them all with
    `after` (each page's `next_after`)."""
    if caller.role == "creator":
        if creator_id is not None and creator_id != caller.creator_id:
            raise ApiError(403, "forbidden", "a creator key lists its own creator's claims only")
        creator_id = caller.creator_id
    if after is not None:  # a cursor the caller cannot see is as unknown as a missing one
        try:
            visible_claim(runtime, caller, after)
        except ClaimNotFound as e:
            raise ApiError(422, "invalid_request", f"{e}: `after` takes a listed claim id") from e
    claims = runtime.library.claims.find(creator_id, status, limit, after)
    return ClaimList(
        claims=[claim_out(c) for c in claims],
        next_after=claims[-1].claim_id if len(claims) == limit else None,
    )


@router.get("/v1/claims/{claim_id}", responses={404: {"model": ErrorResponse}})
def get_claim(claim_id: str, runtime: RuntimeDep, caller: Caller) -> ClaimOut:
    return claim_out(visible_claim(runtime, caller, claim_id))


@router.post(
    "/v1/claims/{claim_id}/{action}",
    responses={
        403: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
    },
)
def act_on_claim(
    claim_id: str, action: Action, body: MoveIn, runtime: RuntimeDep, caller: Caller
) -> ClaimOut:
    """dispute (platform, within the window), withdraw (the claimant), uphold or reject (a
    reviewer: once disputed, or after the window closed)."""
    claim = visible_claim(runtime, caller, claim_id)
    moved = move_claim(
        runtime.library.claims, claim, action, caller.role, caller.actor, body.reason
    )
    return claim_out(moved)


@router.get(
    "/v1/claims/{claim_id}/evidence",
    response_class=Response,
    responses={**ZIP, 404: {"model": ErrorResponse}},
)
def claim_evidence(claim_id: str, runtime: RuntimeDep, caller: Caller) -> Response:
    """The claim's signed evidence packet, as filed."""
    claim = visible_claim(runtime, caller, claim_id)
    return Response(
        stored_evidence(runtime.settings.data_dir, claim),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{claim.claim_id}.zip"'},
    )


@router.post("/v1/evidence", dependencies=ONCE, response_class=Response, responses=ZIP)
async def evidence(
    image: Annotated[UploadFile, File(description="the image to match")],
    runtime: RuntimeDep,
    settings: Annotated[Settings, Depends(get_settings)],
    inference: Annotated[Inference, Depends(get_inference)],
    caller: Caller,
) -> Response:
    """Match the image and answer with a signed evidence packet of the result (a creator
    key's packet shows its own matches only)."""
    data = await read_upload(image, settings.max_upload_bytes)

    def run() -> bytes:
        query = load_image_bytes(data, settings.limits)
        result = runtime.matcher.match([query], runtime.options(creator=caller.creator_id))[0]
        if caller.creator_id:
            result = restrict(result, caller.creator_id)
        context = {"requested_by": caller.actor}
        return build_packet(runtime.library, runtime.signer, query, data, result, context).data

    packet = await inference.run("evidence", run)
    return Response(
        packet,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="evidence.zip"'},
    )
