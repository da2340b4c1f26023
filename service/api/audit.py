"""`/v1/audit`: the hash-chained audit log (indexer/audit.py), for admins and reviewers:
entries in order, and a check of the whole chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from indexer import audit
from service.api.auth import Caller, allow
from service.api.deps import MAX_OFFSET, get_runtime
from service.records import EntryOut, entry_out
from service.runtime import Runtime

router = APIRouter(prefix="/v1/audit", tags=["audit"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class EntryList(BaseModel):
    entries: list[EntryOut]


class ChainOut(BaseModel):
    ok: bool
    entries: int
    head: str
    problem: str


@router.get("")
def list_entries(
    runtime: RuntimeDep,
    caller: Caller,
    after: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="entries after this seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    subject: Annotated[str | None, Query(max_length=1000)] = None,
) -> EntryList:
    """Audit entries in order."""
    allow(caller, "admin", "reviewer")
    found = audit.entries(runtime.library.catalog.engine, subject, limit, after)
    return EntryList(entries=[entry_out(e) for e in found])


@router.get("/verify")
def verify_chain(runtime: RuntimeDep, caller: Caller) -> ChainOut:
    """Recompute every digest: ok, or the first entry that was edited or deleted."""
    allow(caller, "admin", "reviewer")
    check = audit.verify(runtime.library.catalog.engine)
    return ChainOut(ok=check.ok, entries=check.entries, head=check.head, problem=check.problem)
