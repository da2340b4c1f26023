"""`/v1/works`: register (multipart upload), look up, list and remove works. Work ids contain
'/', so routes take them with the path converter (raw or percent-encoded). Registration is
idempotent: identical bytes already registered answer 200 with `created: false`."""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, Field

from indexer.catalog import Work
from indexer.errors import WorkNotFound
from indexer.ids import canonical
from indexer.spaces import Registered
from service.api.auth import Caller, Principal, allow
from service.api.deps import (
    MAX_OFFSET,
    Inference,
    get_inference,
    get_runtime,
    get_settings,
    read_upload,
)
from service.api.errors import ApiError
from service.api.forms import ONCE
from service.receipts import removal_receipt
from service.records import Removed, work_out
from service.registration import submission
from service.runtime import Runtime
from service.schemas import ErrorResponse, WorkOut
from service.settings import Settings

router = APIRouter(prefix="/v1/works", tags=["works"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
UNSAFE = re.compile(r"[^\w.-]+")
MAX_NAME = 200


class WorkList(BaseModel):
    works: list[WorkOut]
    limit: int
    offset: int
    next_after: str | None = Field(
        description="the page's last work id, to pass as `after`; null on the last page"
    )


def visible_work(runtime: Runtime, caller: Principal, work_id: str) -> Work:
    """The active work, or the same 404 as a missing one when it is another creator's."""
    work = runtime.library.catalog.get(work_id)
    if not caller.sees_creator(work.creator_id):
        raise WorkNotFound(f"no registered work with id {work_id!r}")
    return work


def default_work_id(creator_id: str, filename: str | None, data: bytes) -> str:
    """`creator/<uploaded file name, composed (NFC) and sanitised>`, or
    `creator/<sha256[:16]>.png`."""
    base = PurePosixPath(canonical(filename or "").replace("\\", "/")).name
    name = UNSAFE.sub("_", base).lstrip(".")[-MAX_NAME:]
    if not any(ch.isalnum() for ch in PurePosixPath(name).stem):
        name = f"{hashlib.sha256(data).hexdigest()[:16]}.png"
    return f"{creator_id}/{name}"


@router.post(
    "",
    status_code=201,
    dependencies=ONCE,
    response_model=WorkOut,
    responses={
        200: {"model": WorkOut, "description": "already registered"},
        409: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
        415: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
    },
)
async def register_work(
    image: Annotated[UploadFile, File(description="the work's image file")],
    creator_id: Annotated[str, Form(description="who made it, e.g. 'alice'")],
    response: Response,
    runtime: RuntimeDep,
    settings: Annotated[Settings, Depends(get_settings)],
    inference: Annotated[Inference, Depends(get_inference)],
    caller: Caller,
    work_id: Annotated[str | None, Form(description="default: creator_id/<file name>")] = None,
) -> WorkOut:
    """Register one work: 201 when new, 200 when these bytes are already registered. A
    creator key registers under its own creator_id, and work ids under its `creator_id/`,
    only."""
    allow(caller, "admin", "creator")
    if not caller.sees_creator(creator_id):
        raise ApiError(
            403,
            "forbidden",
            f"this key registers works for creator {caller.creator_id!r} only, "
            f"not {creator_id[:80]!r}",
        )
    if (
        caller.role == "creator"
        and work_id is not None
        and not work_id.startswith(creator_id + "/")
    ):
        raise ApiError(  # else it could take, or learn of, another creator's work ids
            403,
            "forbidden",
            f"this key registers work ids under {creator_id + '/'!r} only, not {work_id[:80]!r}",
        )
    data = await read_upload(image, settings.max_upload_bytes)
    work_id = work_id or default_work_id(creator_id, image.filename, data)
    source = f"upload:{image.filename}" if image.filename else "upload"

    def register() -> Registered:
        item = submission(data, creator_id, work_id, source, settings.limits)
        return runtime.library.register_one(item, caller.actor)

    done = await inference.run("register", register)
    response.status_code = 201 if done.created else 200
    return work_out(done.work, done.created)


@router.get("")
def list_works(
    runtime: RuntimeDep,
    caller: Caller,
    creator_id: Annotated[str | None, Query(description="only this creator's works")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    after: Annotated[
        str | None,
        Query(description="list after this work id (a page's `next_after`)", max_length=1000),
    ] = None,
) -> WorkList:
    """Active works, oldest first; a creator key lists its own creator's only. Walk every
    work with `after` (each page's `next_after`); `offset` pages can shift when a work is
    removed meanwhile."""
    allow(caller, "admin", "reviewer", "creator")
    if caller.role == "creator":
        if creator_id is not None and creator_id != caller.creator_id:
            raise ApiError(403, "forbidden", "a creator key lists its own creator's works only")
        creator_id = caller.creator_id
    if after is not None and offset:
        raise ApiError(422, "invalid_request", "page with `after` or with `offset`, not both")
    try:
        works = runtime.library.catalog.works(creator_id, limit, offset, after)
    except WorkNotFound as e:  # a cursor, not the resource asked for: the request is wrong
        raise ApiError(422, "invalid_request", str(e)) from e
    return WorkList(
        works=[work_out(w) for w in works],
        limit=limit,
        offset=offset,
        next_after=works[-1].work_id if len(works) == limit else None,
    )


@router.get("/{work_id:path}", responses={404: {"model": ErrorResponse}})
def get_work(work_id: str, runtime: RuntimeDep, caller: Caller) -> WorkOut:
    """One active work; the id may contain '/' (raw or as %2F)."""
    allow(caller, "admin", "reviewer", "creator")
    return work_out(visible_work(runtime, caller, work_id))


@router.delete("/{work_id:path}", responses={404: {"model": ErrorResponse}})
def remove_work(work_id: str, runtime: RuntimeDep, caller: Caller) -> Removed:
    """Remove a work: it is gone from matching before this answers."""
    allow(caller, "admin", "creator")
    visible_work(runtime, caller, work_id)
    work = runtime.library.remove(work_id, caller.actor)
    receipt = removal_receipt(
        runtime.library, runtime.signer, [work], work.creator_id, caller.actor
    )
    return Removed(
        removed=work.work_id,
        creator_id=work.creator_id,
        index=runtime.library.snapshot_id,
        receipt=receipt,
    )
