"""Opt-out: `DELETE /v1/creators/{creator_id}/works` removes every work of a creator before it
answers, with a signed receipt; `GET /v1/receipts/{receipt_id}` fetches a receipt again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from indexer.ids import check_creator_id
from service.api.auth import Caller, allow
from service.api.deps import get_runtime
from service.api.errors import ApiError
from service.receipts import removal_receipt
from service.records import OptedOut
from service.runtime import Runtime
from service.schemas import ErrorResponse

router = APIRouter(tags=["opt-out"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@router.delete("/v1/creators/{creator_id}/works", responses={404: {"model": ErrorResponse}})
def remove_all(creator_id: str, runtime: RuntimeDep, caller: Caller) -> OptedOut:
    """Remove all of a creator's works: none can match once this answers."""
    allow(caller, "admin", "creator")
    check_creator_id(creator_id)
    if not caller.sees_creator(creator_id):
        raise ApiError(404, "not_found", f"no works of creator {creator_id!r} for this key")
    works = runtime.library.remove_all(creator_id, caller.actor)
    receipt = removal_receipt(runtime.library, runtime.signer, works, creator_id, caller.actor)
    return OptedOut(
        creator_id=creator_id,
        removed=len(works),
        index=runtime.library.snapshot_id,
        receipt=receipt,
    )


@router.get("/v1/receipts/{receipt_id}", responses={404: {"model": ErrorResponse}})
def get_receipt(receipt_id: str, runtime: RuntimeDep, caller: Caller) -> dict[str, Any]:
    """A signed receipt, for its creator, admins and reviewers."""
    allow(caller, "admin", "reviewer", "creator")
    found = runtime.library.catalog.receipt(receipt_id[:40])
    if found is None or not caller.sees_creator(found[0]):
        raise ApiError(404, "not_found", f"no receipt with id {receipt_id[:40]!r}")
    return found[1]
