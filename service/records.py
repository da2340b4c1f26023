"""The records both the HTTP API and the CLI print (works, removals, claims, keys, audit
entries): one shape each, read from the catalog's own records, with every timestamp in UTC
and marked so (the database keeps naive UTC datetimes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from indexer.audit import Entry
from indexer.catalog import Work
from indexer.claims import Claim
from indexer.keys import ApiKey, Role
from service.consent import shows_nothing, unsafe_character
from service.schemas import WorkOut

MAX_LABEL = 200  # characters in a key's label


def utc(at: datetime) -> datetime:
    """A stored timestamp (naive: UTC) with its zone."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


Utc = Annotated[datetime, AfterValidator(utc)]


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
        warnings=work.warnings,
        provenance=work.meta.get("provenance"),
        columns=dict(work.meta.get("columns", {})),
    )


def check_label(label: str) -> str:
    """A key's label as kept: what it is for, in at most 200 printable characters (no control,
    invisible or bidi control characters, nor line breaks, which would let one key's listing
    pass for another's), or none; ValueError says what is wrong."""
    if len(label) > MAX_LABEL:
        raise ValueError(f"a label holds at most {MAX_LABEL} characters ({len(label)} given)")
    bad = unsafe_character(label, lines=False)
    if bad is not None:
        raise ValueError(
            f"the label holds the character U+{ord(bad):04X}; control, invisible and bidi "
            "control characters, and line breaks, cannot go into a key's label"
        )
    if shows_nothing(label):
        raise ValueError("the label prints as nothing: say what the key is for, or give none")
    return label


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


class Record(BaseModel):
    """A record read from the catalog's dataclass of the same fields."""

    model_config = ConfigDict(from_attributes=True)


class EventOut(Record):
    at: Utc
    actor: str
    from_status: str
    to_status: str
    reason: str


class ClaimOut(Record):
    claim_id: str
    kind: str
    status: Literal["open", "disputed", "upheld", "rejected", "withdrawn"]
    creator_id: str
    claimant: str
    query_sha256: str
    created_at: Utc
    dispute_until: Utc
    matched: list[dict[str, Any]]
    packet_sha256: str
    events: list[EventOut]
    result: dict[str, Any]


class KeyOut(Record):
    key_id: str
    role: Role
    creator_id: str | None
    label: str
    created_at: Utc
    created_by: str
    revoked_at: Utc | None


class CreatedKey(KeyOut):
    key: str = Field(description="the secret key; shown only in this answer")


class EntryOut(Record):
    seq: int
    at: Utc
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev: str
    digest: str


def claim_out(claim: Claim) -> ClaimOut:
    return ClaimOut.model_validate(claim)


def key_out(key: ApiKey) -> KeyOut:
    return KeyOut.model_validate(key)


def entry_out(entry: Entry) -> EntryOut:
    return EntryOut.model_validate(entry)
