"""Stored claims and their moves. Every move (and the filing) is one transaction with its
audit entry; a move is taken only from the status the caller saw, so two reviewers cannot
both decide one claim."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image
from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from indexer import audit
from indexer.errors import CatalogError
from indexer.schema import ClaimEventRow, ClaimRow, now


class ClaimNotFound(CatalogError, LookupError):
    """No claim has this id (or it is not visible to the caller)."""


class ClaimConflict(CatalogError):
    """The claim is not in a status that allows this move."""


@dataclass(frozen=True)
class ClaimEvent:
    at: datetime
    actor: str
    from_status: str
    to_status: str
    reason: str


@dataclass(frozen=True)
class Claim:
    """A claim as the rest of the program sees it, with its history."""

    claim_id: str
    kind: str
    status: str
    creator_id: str
    claimant: str
    query_sha256: str
    created_at: datetime
    dispute_until: datetime
    matched: list[dict[str, Any]]
    result: dict[str, Any]
    packet_sha256: str
    events: list[ClaimEvent]
    query_pixels: str | None = None  # `pixel_digest` of the image (None: filed before 0007)

    @classmethod
    def from_row(cls, row: ClaimRow, events: list[ClaimEventRow]) -> Claim:
        return cls(
            row.claim_id,
            row.kind,
            row.status,
            row.creator_id,
            row.claimant,
            row.query_sha256,
            row.created_at,
            row.dispute_until,
            list(row.matched),
            dict(row.result),
            row.packet_sha256,
            [ClaimEvent(e.at, e.actor, e.from_status, e.to_status, e.reason) for e in events],
            row.query_pixels,
        )


def pixel_digest(image: Image.Image) -> str:
    """sha256 of an image's size and decoded pixels: the same picture saved again with other
    metadata, or another lossless encoding, has the same digest."""
    return hashlib.sha256(
        f"{image.mode} {image.width}x{image.height}\0".encode() + image.tobytes()
    ).hexdigest()


def _lock_key(claim: Claim) -> int:
    """A 63-bit key for one (creator, image): what racing filings of a claim share."""
    image = claim.query_pixels or claim.query_sha256
    digest = hashlib.sha256(f"{claim.creator_id}\0{image}".encode())
    return int.from_bytes(digest.digest()[:8], "big") >> 1


def already_pending(earlier: Claim | ClaimRow, kind: str) -> ClaimConflict:
    """The refusal of a `kind` claim filed while `earlier` (same creator and image) is still
    open or disputed: a creator holds one claim per image at a time, so a platform is never
    asked for a share of what it is also asked to take down."""
    said = (
        "act on it rather than filing it again"
        if earlier.kind == kind
        else f"withdraw it to file a {kind} claim instead"
    )
    return ClaimConflict(
        f"claim {earlier.claim_id} for this image and creator {earlier.creator_id!r} "
        f"({earlier.kind}) is already {earlier.status}; {said}"
    )


class ClaimStore:
    """Claims in the catalog database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, claim: Claim) -> Claim:
        """File a claim (status open), audited; ClaimConflict naming the earlier one when a
        claim of the same creator and kind on the same image is still open or disputed."""
        try:
            return self._add(claim)
        except IntegrityError:  # a concurrent writer extended the audit chain first: again
            return self._add(claim)

    def _add(self, claim: Claim) -> Claim:
        with Session(self.engine) as s, s.begin():
            if self.engine.dialect.name == "postgresql":  # racing filings of one claim queue
                s.execute(select(func.pg_advisory_xact_lock(_lock_key(claim))))
            s.add(
                ClaimRow(
                    claim_id=claim.claim_id,
                    kind=claim.kind,
                    status=claim.status,
                    creator_id=claim.creator_id,
                    claimant=claim.claimant,
                    query_sha256=claim.query_sha256,
                    query_pixels=claim.query_pixels,
                    created_at=claim.created_at,
                    dispute_until=claim.dispute_until,
                    matched=claim.matched,
                    result=claim.result,
                    packet_sha256=claim.packet_sha256,
                )
            )
            s.flush()  # the claim row before the event that refers to it
            # checked after the insert: by then writers are serialised (SQLite's write lock;
            # on PostgreSQL the lock above), so of two racing filings one sees the other
            earlier = self._pending(s, claim.creator_id, claim.query_sha256, claim.query_pixels)
            if earlier is not None and earlier.claim_id != claim.claim_id:
                raise already_pending(earlier, claim.kind)
            event = ClaimEventRow(
                claim_id=claim.claim_id,
                at=claim.created_at,
                actor=claim.claimant,
                from_status="",
                to_status=claim.status,
                reason="filed",
            )
            s.add(event)
            audit.append(
                s,
                claim.claimant,
                "claim.file",
                claim.claim_id,
                {"kind": claim.kind, "creator_id": claim.creator_id, "matched": claim.matched},
            )
        return self.get(claim.claim_id)

    def get(self, claim_id: str) -> Claim:
        with Session(self.engine) as s:
            row = s.get(ClaimRow, claim_id)
            if row is None:
                raise ClaimNotFound(f"no claim with id {claim_id[:40]!r}")
            return Claim.from_row(row, self._events(s, claim_id))

    def pending(
        self, creator_id: str, query_sha256: str, query_pixels: str | None = None
    ) -> Claim | None:
        """An open or disputed claim of this creator on this image (these bytes, or these
        pixels), if any."""
        with Session(self.engine) as s:
            row = self._pending(s, creator_id, query_sha256, query_pixels)
            return None if row is None else Claim.from_row(row, self._events(s, row.claim_id))

    @staticmethod
    def _pending(
        s: Session, creator_id: str, query_sha256: str, query_pixels: str | None
    ) -> ClaimRow | None:
        same = ClaimRow.query_sha256 == query_sha256
        if query_pixels is not None:
            same = or_(same, ClaimRow.query_pixels == query_pixels)
        query = select(ClaimRow).where(
            ClaimRow.creator_id == creator_id,
            same,
            ClaimRow.status.in_(("open", "disputed")),
        )
        return s.scalars(query.order_by(ClaimRow.created_at).limit(1)).first()

    def find(
        self,
        creator_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[Claim]:
        """Newest first, optionally one creator's or one status; `after` a claim id, the
        claims that come after it in that order (a page's last, to walk them all)."""
        query = select(ClaimRow)
        if creator_id is not None:
            query = query.where(ClaimRow.creator_id == creator_id)
        if status is not None:
            query = query.where(ClaimRow.status == status)
        order = (ClaimRow.created_at.desc(), ClaimRow.claim_id.desc())
        with Session(self.engine) as s:
            if after is not None:
                mark = s.get(ClaimRow, after)
                if mark is None:
                    raise ClaimNotFound(f"no claim with id {after[:40]!r} to list after")
                query = query.where(
                    or_(
                        ClaimRow.created_at < mark.created_at,
                        and_(
                            ClaimRow.created_at == mark.created_at,
                            ClaimRow.claim_id < mark.claim_id,
                        ),
                    )
                )
            rows = s.scalars(query.order_by(*order).limit(limit)).all()
            return [Claim.from_row(r, self._events(s, r.claim_id)) for r in rows]

    def move(self, claim_id: str, seen: str, to: str, actor: str, reason: str) -> Claim:
        """Move a claim from status `seen` to `to`, audited; ClaimConflict if it moved."""
        with Session(self.engine) as s, s.begin():
            moved = s.execute(  # compare-and-set: of two racing moves, one wins
                update(ClaimRow)
                .where(ClaimRow.claim_id == claim_id, ClaimRow.status == seen)
                .values(status=to)
            )
            if moved.rowcount == 0:  # type: ignore[attr-defined]
                row = s.get(ClaimRow, claim_id)
                if row is None:
                    raise ClaimNotFound(f"no claim with id {claim_id[:40]!r}")
                raise ClaimConflict(f"claim {claim_id} is {row.status} now, not {seen}")
            s.add(
                ClaimEventRow(
                    claim_id=claim_id,
                    at=now(),
                    actor=actor,
                    from_status=seen,
                    to_status=to,
                    reason=reason,
                )
            )
            audit.append(
                s, actor, f"claim.{to}", claim_id, {"from": seen, "to": to, "reason": reason}
            )
        return self.get(claim_id)

    @staticmethod
    def _events(s: Session, claim_id: str) -> list[ClaimEventRow]:
        query = select(ClaimEventRow).where(ClaimEventRow.claim_id == claim_id)
        return list(s.scalars(query.order_by(ClaimEventRow.id)))
