"""Who is calling: `Authorization: Bearer <key>` becomes a Principal (role, and the creator
a creator key belongs to). The bootstrap admin key comes from STYLETRACE_ADMIN_KEY; every
other key lives hashed in the catalog (indexer/keys.py). Routes state the roles they allow;
a creator reaching for another creator's things gets the same 404 as for a missing one."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from indexer.keys import Role
from service.api.deps import get_runtime, get_settings
from service.api.errors import ApiError
from service.runtime import Runtime
from service.settings import Settings

CHALLENGE = {"WWW-Authenticate": "Bearer"}
BOOTSTRAP = "admin-env"  # the actor name of the STYLETRACE_ADMIN_KEY key

bearer = HTTPBearer(auto_error=False, description="an API key (`styletrace keys create`)")


@dataclass(frozen=True)
class Principal:
    """The caller: their key id (the actor in the audit log), role and creator."""

    key_id: str
    role: Role
    creator_id: str | None = None

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}" if self.key_id != BOOTSTRAP else BOOTSTRAP

    def sees_creator(self, creator_id: str) -> bool:
        """May this caller see a creator's works, terms and keys? Creators only their own."""
        return self.role != "creator" or self.creator_id == creator_id


def identify(settings: Settings, runtime: Runtime, presented: str) -> Principal | None:
    """The principal a presented key secret belongs to; None for an unknown or revoked key."""
    if settings.admin_key and hmac.compare_digest(presented.encode(), settings.admin_key.encode()):
        return Principal(BOOTSTRAP, "admin")
    key = runtime.library.keys.check(presented)
    return None if key is None else Principal(key.key_id, key.role, key.creator_id)


def authenticate(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller's principal (its key id goes into the request's log line); 401 with a reason
    when there is none."""
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "missing credentials: send the header 'Authorization: Bearer <key>'",
            CHALLENGE,
        )
    principal = identify(settings, runtime, credentials.credentials)
    if principal is None:
        raise ApiError(401, "unauthorized", "invalid or revoked API key", CHALLENGE)
    request.state.key_id = principal.key_id
    return principal


Caller = Annotated[Principal, Depends(authenticate)]


def allow(principal: Principal, *roles: Role) -> Principal:
    """403 unless the caller has one of the roles."""
    if principal.role not in roles:
        raise ApiError(
            403,
            "forbidden",
            f"a {principal.role} key cannot do this; it needs a key with role {' or '.join(roles)}",
        )
    return principal
