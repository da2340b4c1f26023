"""API keys with roles. A key reads `st_<key id>_<secret>`; only the sha256 of the secret is
stored (the secret is 256 random bits, so a plain hash is as strong as a slow one) and it is
shown once, at creation. Creation and revocation are audited."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from indexer import audit
from indexer.errors import CatalogError, InvalidId
from indexer.ids import check_creator_id
from indexer.schema import ApiKeyRow, now

Role = Literal["admin", "reviewer", "platform", "creator"]
ROLES: tuple[str, ...] = get_args(Role)
PREFIX = "st_"
MAX_LABEL = 200


class KeyNotFound(CatalogError, LookupError):
    """No key has this id (or it is not visible to the caller)."""


@dataclass(frozen=True)
class ApiKey:
    """A key's public record (never the secret)."""

    key_id: str
    role: Role
    creator_id: str | None
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        role: Role = row.role  # type: ignore[assignment]
        return cls(
            row.key_id,
            role,
            row.creator_id,
            row.label,
            row.created_at,
            row.created_by,
            row.revoked_at,
        )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    """Creates, checks, lists and revokes API keys in the catalog database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self, role: str, creator_id: str | None, label: str = "", actor: str = "system"
    ) -> tuple[ApiKey, str]:
        """A new key: (its record, the full key string, shown only now). Creator keys belong
        to exactly one creator; other roles to none."""
        if role not in ROLES:
            raise InvalidId(f"invalid role {role[:40]!r}: use one of {', '.join(ROLES)}")
        if (role == "creator") != (creator_id is not None):
            raise InvalidId("a creator key needs a creator_id, and only a creator key has one")
        if creator_id is not None:
            check_creator_id(creator_id)
        if len(label) > MAX_LABEL:
            raise InvalidId(f"label is longer than {MAX_LABEL} characters")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        with Session(self.engine) as s, s.begin():
            row = ApiKeyRow(
                key_id=key_id,
                secret_sha256=_hash(secret),
                role=role,
                creator_id=creator_id,
                label=label,
                created_at=now(),
                created_by=actor,
            )
            s.add(row)
            s.flush()
            audit.append(
                s, actor, "key.create", f"key:{key_id}", {"role": role, "creator_id": creator_id}
            )
            return ApiKey.from_row(row), f"{PREFIX}{key_id}_{secret}"

    def check(self, presented: str) -> ApiKey | None:
        """The active key this string is, or None (malformed, unknown, wrong or revoked)."""
        if not presented.startswith(PREFIX):
            return None
        key_id, sep, secret = presented[len(PREFIX) :].partition("_")
        if not sep or not secret or len(key_id) > 32:
            return None
        with Session(self.engine) as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.secret_sha256, _hash(secret)):
                return None
            return ApiKey.from_row(row)

    def get(self, key_id: str) -> ApiKey:
        with Session(self.engine) as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise KeyNotFound(f"no API key with id {key_id[:40]!r}")
            return ApiKey.from_row(row)

    def list(self, creator_id: str | None = None) -> list[ApiKey]:
        """Every key (revoked ones too), oldest first, optionally only one creator's."""
        query = select(ApiKeyRow)
        if creator_id is not None:
            query = query.where(ApiKeyRow.creator_id == creator_id)
        with Session(self.engine) as s:
            return [ApiKey.from_row(r) for r in s.scalars(query.order_by(ApiKeyRow.created_at))]

    def revoke(self, key_id: str, actor: str = "system") -> ApiKey:
        """Revoke a key: it stops working at once. Revoking twice is a no-op."""
        with Session(self.engine) as s, s.begin():
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise KeyNotFound(f"no API key with id {key_id[:40]!r}")
            if row.revoked_at is None:
                row.revoked_at = now()
                audit.append(s, actor, "key.revoke", f"key:{key_id}", {"role": row.role})
            return ApiKey.from_row(row)
