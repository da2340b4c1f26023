"""The audit log: append-only, hash-chained. Each entry's digest is the sha256 of the previous
digest and the entry's canonical JSON, so editing or deleting any entry breaks every digest
after it; `verify` walks the chain. Entries are written in the same transaction as the change
they record, so the log and the catalog never disagree."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from indexer.schema import AuditRow, StateRow, now

GENESIS = "0" * 64  # the `prev` of the first entry
COUNT_KEY = "audit_entries"  # state row counting entries: a deleted last entry shows


@dataclass(frozen=True)
class Entry:
    """One audit entry as the rest of the program sees it."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev: str
    digest: str

    @classmethod
    def from_row(cls, row: AuditRow) -> Entry:
        return cls(
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.subject,
            dict(row.details or {}),
            row.prev,
            row.digest,
        )


def digest_of(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
    prev: str,
) -> str:
    """sha256 over the previous digest and the entry's canonical JSON."""
    body = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, subject, details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


def append(s: Session, actor: str, action: str, subject: str, details: dict[str, Any]) -> Entry:
    """Add an entry inside the caller's transaction. A concurrent writer extending the same
    head fails on the unique `prev` and its transaction is retried by the caller."""
    head = s.scalar(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1))
    seq, prev = (head.seq + 1, head.digest) if head else (1, GENESIS)
    at = now()
    clean = json.loads(json.dumps(details, default=str))  # stored exactly as hashed
    row = AuditRow(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=clean,
        prev=prev,
        digest=digest_of(seq, at, actor, action, subject, clean, prev),
    )
    s.add(row)
    counted = s.execute(update(StateRow).where(StateRow.key == COUNT_KEY).values(value=seq))
    if counted.rowcount == 0:  # type: ignore[attr-defined]
        s.add(StateRow(key=COUNT_KEY, value=seq))
    s.flush()
    return Entry.from_row(row)


def head(engine: Engine) -> str:
    """The newest entry's digest (GENESIS for an empty log): what a receipt or packet cites."""
    with Session(engine) as s:
        found = s.scalar(select(AuditRow.digest).order_by(AuditRow.seq.desc()).limit(1))
    return found or GENESIS


@dataclass(frozen=True)
class ChainCheck:
    """Outcome of `verify`: ok, entries checked, the head digest, and the first problem."""

    ok: bool
    entries: int
    head: str
    problem: str = ""


def verify(engine: Engine) -> ChainCheck:
    """Walk the chain from the first entry: every seq in order, every `prev` the digest before
    it, every digest recomputed from the stored fields."""
    prev, count = GENESIS, 0
    with Session(engine) as s:
        for row in s.scalars(select(AuditRow).order_by(AuditRow.seq)):
            count += 1
            if row.seq != count:
                return ChainCheck(
                    False, count, prev, f"entry {count} is missing (next is {row.seq})"
                )
            if row.prev != prev:
                return ChainCheck(
                    False, count, prev, f"entry {row.seq} does not follow entry {count - 1}"
                )
            expected = digest_of(
                row.seq,
                row.at,
                row.actor,
                row.action,
                row.subject,
                dict(row.details or {}),
                row.prev,
            )
            if expected != row.digest:
                return ChainCheck(
                    False, count, prev, f"entry {row.seq} was altered after it was written"
                )
            prev = row.digest
        recorded = s.scalar(select(StateRow.value).where(StateRow.key == COUNT_KEY)) or 0
    if recorded != count:
        return ChainCheck(False, count, prev, f"{recorded} entries were written, {count} remain")
    return ChainCheck(True, count, prev)


def entries(
    engine: Engine, subject: str | None = None, limit: int = 100, after: int = 0
) -> list[Entry]:
    """Entries in order, after seq `after`, optionally about one subject."""
    query = select(AuditRow).where(AuditRow.seq > after)
    if subject is not None:
        query = query.where(AuditRow.subject == subject)
    with Session(engine) as s:
        return [Entry.from_row(r) for r in s.scalars(query.order_by(AuditRow.seq).limit(limit))]
