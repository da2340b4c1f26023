"""The records both the HTTP API and the CLI print (works, removals, claims, keys, audit
entries): one shape each, with every timestamp in UTC and marked so. The database keeps
naive UTC datetimes; these builders name their zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from indexer.audit import Entry
from indexer.catalog import Work
from indexer.claims import Claim
from indexer.keys import ApiKey, Role
from service.schemas import WorkOut


def utc(at: datetime) -> datetime:
    """A stored (naive UTC) timestamp with its zone."""
    return at.replace(tzinfo=UTC)


def work_out(work: Work, created: bool | None = None) -> WorkOut:
    return WorkOut(
        work_id=work.work_id,
        creator_id=work.creator_id,
        sha256=work.sha256,
        size_bytes=work.size_bytes,
        width=work.width,
        height=work.height,
        registered_at=utc(work.registered_at),
        created=created,
        warnings=list(work.meta.get("warnings", [])),
        provenance=work.meta.get("provenance"),
    )


class Removed(BaseModel):
    """One work removed."""

    removed: str
    creator_id: str
    index: str = Field(description="snapshot id of the index the removal is already part of")
    receipt: dict[str, Any] = Field(description="signed: what was removed, when, by whom")


class OptedOut(BaseModel):
    """Every work of a creator removed (opt-out)."""

    creator_id: str
    removed: int = Field(description="how many works were removed")
    index: str = Field(description="snapshot id of the index the removal is already part of")
    receipt: dict[str, Any] = Field(description="signed: what was removed, when, by whom")


class EventOut(BaseModel):
    at: datetime
    actor: str
    from_status: str
    to_status: str
    reason: str


class ClaimOut(BaseModel):
    claim_id: str
    kind: str
    status: Literal["open", "disputed", "upheld", "rejected", "withdrawn"]
    creator_id: str
    claimant: str
    query_sha256: str
    created_at: datetime
    dispute_until: datetime
    matched: list[dict[str, Any]]
    packet_sha256: str
    events: list[EventOut]
    result: dict[str, Any]


def claim_out(c: Claim) -> ClaimOut:
    return ClaimOut(
        claim_id=c.claim_id,
        kind=c.kind,
        status=c.status,
        creator_id=c.creator_id,
        claimant=c.claimant,
        query_sha256=c.query_sha256,
        created_at=utc(c.created_at),
        dispute_until=utc(c.dispute_until),
        matched=c.matched,
        packet_sha256=c.packet_sha256,
        events=[EventOut(**{**e.__dict__, "at": utc(e.at)}) for e in c.events],
        result=c.result,
    )


class KeyOut(BaseModel):
    key_id: str
    role: Role
    creator_id: str | None
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class CreatedKey(KeyOut):
    key: str = Field(description="the secret key; shown only in this answer")


def key_out(key: ApiKey) -> KeyOut:
    return KeyOut(
        key_id=key.key_id,
        role=key.role,
        creator_id=key.creator_id,
        label=key.label,
        created_at=utc(key.created_at),
        created_by=key.created_by,
        revoked_at=utc(key.revoked_at) if key.revoked_at else None,
    )


class EntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev: str
    digest: str


def entry_out(e: Entry) -> EntryOut:
    return EntryOut(**{**e.__dict__, "at": utc(e.at)})
