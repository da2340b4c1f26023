"""SQLAlchemy 2 table definitions of the catalog. Schema changes go through Alembic
(indexer/migrations); these classes are the database rows, not API schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def now() -> datetime:
    """The time as stored: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of all catalog tables."""


class CreatorRow(Base):
    __tablename__ = "creators"

    creator_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime]
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # consent terms


class WorkRow(Base):
    """A registered work. `id` is the integer key used by the vector indexes; a removed work
    keeps its row as a tombstone (`removed_at` set) and loses its vectors."""

    __tablename__ = "works"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_id: Mapped[str] = mapped_column(String(1000), unique=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("creators.creator_id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    source: Mapped[str] = mapped_column(String(2000))
    registered_at: Mapped[datetime]
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # overrides the creator's


class VectorRow(Base):
    """A raw (pre-projection) vector of a work in one embedding space, or a perceptual hash."""

    __tablename__ = "vectors"

    work_pk: Mapped[int] = mapped_column(ForeignKey("works.id"), primary_key=True)
    space: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class StateRow(Base):
    """Key/value state; `generation` counts committed registrations and removals."""

    __tablename__ = "state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class ApiKeyRow(Base):
    """An API key: only the sha256 of its secret is stored; revoked keys are kept."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    creator_id: Mapped[str | None] = mapped_column(String(200), default=None)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditRow(Base):
    """One entry of the append-only audit log. `digest` hashes the entry with the previous
    entry's digest (`prev`), which is unique: two writers cannot both extend one entry."""

    __tablename__ = "audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(1000))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev: Mapped[str] = mapped_column(String(64), unique=True)
    digest: Mapped[str] = mapped_column(String(64))


class ReceiptRow(Base):
    """A signed receipt the service gave out (a removal), kept so it can be fetched again."""

    __tablename__ = "receipts"

    receipt_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    creator_id: Mapped[str] = mapped_column(String(200), index=True)
    signed: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"body": ..., "signature": ...}


class ClaimRow(Base):
    """A rev-share or takedown claim made from a match; `status` moves open -> disputed ->
    upheld | rejected | withdrawn, every move a ClaimEventRow."""

    __tablename__ = "claims"

    claim_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    creator_id: Mapped[str] = mapped_column(String(200), index=True)  # on whose behalf
    claimant: Mapped[str] = mapped_column(String(64))  # the actor who filed it
    query_sha256: Mapped[str] = mapped_column(String(64), index=True)
    # the decoded pixels' digest (indexer/claims.py pixel_digest): one picture saved twice is
    # one image to the one-open-claim rule; none on claims filed before it was kept
    query_pixels: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    created_at: Mapped[datetime]
    dispute_until: Mapped[datetime]
    matched: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # works/creators, shares
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # the match result it was made from
    packet_sha256: Mapped[str] = mapped_column(String(64))


class ClaimEventRow(Base):
    """One move of a claim: who, why, from and to which status."""

    __tablename__ = "claim_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(2000))


class PublishedRow(Base):
    """A work's watermark payload id: one per work, kept after the work is removed so a
    copy found later is still traced (to a removed work)."""

    __tablename__ = "published"

    payload_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    work_pk: Mapped[int] = mapped_column(ForeignKey("works.id"), unique=True)
    method: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


Index("ix_works_creator_active", WorkRow.creator_id, WorkRow.removed_at)
