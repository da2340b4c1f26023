"""`/v1/terms`: consent terms per creator (`/creators/{creator_id}`) and a work's overrides
(`/works/{work_id}`, the id last since it contains '/'). Every key may read terms (platforms
act on them) except a creator key, which reads and writes its own creator's only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ValidationError

from indexer.ids import check_creator_id
from service.api.auth import Caller, allow
from service.api.deps import get_runtime
from service.api.errors import ApiError
from service.api.works import visible_work
from service.consent import Terms, TermsOverride, effective, pinned, problems, scrubbed
from service.runtime import Runtime
from service.schemas import ErrorResponse

router = APIRouter(prefix="/v1/terms", tags=["consent"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
NOT_VISIBLE: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse}}


class CreatorTerms(BaseModel):
    creator_id: str
    terms: Terms


class WorkTerms(BaseModel):
    work_id: str
    creator_id: str
    overrides: TermsOverride
    effective: Terms


def _creator_visible(caller: Caller, creator_id: str) -> None:
    check_creator_id(creator_id)
    if not caller.sees_creator(creator_id):
        raise ApiError(404, "not_found", f"no terms of creator {creator_id!r} for this key")


@router.get("/creators/{creator_id}", responses=NOT_VISIBLE)
def get_creator_terms(creator_id: str, runtime: RuntimeDep, caller: Caller) -> CreatorTerms:
    """A creator's terms (defaults where none were set)."""
    _creator_visible(caller, creator_id)
    stored, _ = runtime.library.catalog.terms_for([creator_id], [])
    return CreatorTerms(creator_id=creator_id, terms=effective(stored[creator_id]))


@router.put("/creators/{creator_id}", responses=NOT_VISIBLE)
def set_creator_terms(
    creator_id: str, terms: Terms, runtime: RuntimeDep, caller: Caller
) -> CreatorTerms:
    """Replace a creator's terms; they apply to the very next match."""
    allow(caller, "admin", "creator")
    _creator_visible(caller, creator_id)
    runtime.library.catalog.set_creator_terms(creator_id, terms.model_dump(), caller.actor)
    return CreatorTerms(creator_id=creator_id, terms=terms)


def _work_terms(
    runtime: Runtime, work_id: str, creator_id: str, overrides: dict[str, Any]
) -> WorkTerms:
    """The overrides with the terms they put in force; ValueError when those are invalid."""
    creators, _ = runtime.library.catalog.terms_for([creator_id], [])
    return WorkTerms(
        work_id=work_id,
        creator_id=creator_id,
        overrides=TermsOverride.model_validate(scrubbed(overrides)),
        effective=effective(creators[creator_id], overrides),
    )


@router.get("/works/{work_id:path}", responses=NOT_VISIBLE)
def get_work_terms(work_id: str, runtime: RuntimeDep, caller: Caller) -> WorkTerms:
    """A work's overrides and the terms in force for it."""
    work = visible_work(runtime, caller, work_id)
    return _work_terms(runtime, work.work_id, work.creator_id, work.terms)


@router.put("/works/{work_id:path}", responses=NOT_VISIBLE)
def set_work_terms(
    work_id: str, overrides: TermsOverride, runtime: RuntimeDep, caller: Caller
) -> WorkTerms:
    """Replace a work's overrides (an empty object clears them); switching a work to
    revshare without a rate keeps its creator's present rate with the work."""
    allow(caller, "admin", "creator")
    work = visible_work(runtime, caller, work_id)
    creators, _ = runtime.library.catalog.terms_for([work.creator_id], [])
    try:
        stored = pinned(creators[work.creator_id], overrides.model_dump(exclude_none=True))
        answer = _work_terms(runtime, work.work_id, work.creator_id, stored)
    except ValueError as exc:
        why = problems(exc) if isinstance(exc, ValidationError) else str(exc)
        raise ApiError(422, "invalid_terms", f"these overrides are not valid terms: {why}") from exc
    runtime.library.catalog.set_work_terms(work.work_id, stored, caller.actor)
    return answer
