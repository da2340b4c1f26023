"""`/v1/keys`: admins create keys for any role; a creator key lists and revokes its own
creator's keys; any key can see and revoke itself. The full key is shown once, at creation.
`GET /v1/me` says who the presented key is (a page signing in learns its role from it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import AfterValidator, BaseModel, Field

from indexer.keys import ApiKey, KeyNotFound, Role
from service.api.auth import Caller, Principal, allow
from service.api.deps import get_runtime
from service.records import CreatedKey, KeyOut, check_label, key_out
from service.runtime import Runtime
from service.schemas import ErrorResponse

router = APIRouter(prefix="/v1/keys", tags=["keys"])
me_router = APIRouter(tags=["keys"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class NewKey(BaseModel):
    role: Role
    creator_id: str | None = Field(None, description="required for (and only for) creator keys")
    label: Annotated[str, AfterValidator(check_label)] = Field(
        "", description="what the key is for (at most 200 characters, one line)"
    )


class KeyList(BaseModel):
    keys: list[KeyOut]


class Me(BaseModel):
    key_id: str = Field(description="the key's id; 'admin-env' for STYLETRACE_ADMIN_KEY")
    role: Role
    creator_id: str | None


def _visible(caller: Principal, key: ApiKey) -> bool:
    if caller.role == "admin" or key.key_id == caller.key_id:
        return True
    return caller.role == "creator" and key.creator_id == caller.creator_id


@router.post("", status_code=201, responses={403: {"model": ErrorResponse}})
def create_key(body: NewKey, runtime: RuntimeDep, caller: Caller) -> CreatedKey:
    """Create a key (admin only)."""
    allow(caller, "admin")
    key, secret = runtime.library.keys.create(body.role, body.creator_id, body.label, caller.actor)
    return CreatedKey(**key_out(key).model_dump(), key=secret)


@router.get("")
def list_keys(runtime: RuntimeDep, caller: Caller) -> KeyList:
    """Keys visible to the caller, revoked ones included."""
    creator = caller.creator_id if caller.role == "creator" else None
    keys = runtime.library.keys.list(creator)
    return KeyList(keys=[key_out(k) for k in keys if _visible(caller, k)])


@router.delete("/{key_id}", responses={404: {"model": ErrorResponse}})
def revoke_key(key_id: str, runtime: RuntimeDep, caller: Caller) -> KeyOut:
    """Revoke a key: it stops working at once."""
    key = runtime.library.keys.get(key_id)
    if not _visible(caller, key):
        raise KeyNotFound(f"no API key with id {key_id[:40]!r}")
    return key_out(runtime.library.keys.revoke(key_id, caller.actor))


@me_router.get("/v1/me")
def whoami(caller: Caller) -> Me:
    """The presented key's id, role and creator: what this key may see and do."""
    return Me(key_id=caller.key_id, role=caller.role, creator_id=caller.creator_id)
