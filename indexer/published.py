"""Published copies in the catalog: the watermark payload id of each work (one per work,
assigned on its first publication) and the audit entry of every publication. A payload id
maps back to its work even after the work is removed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from indexer import audit
from indexer.catalog import Work
from indexer.errors import CatalogError
from indexer.schema import PublishedRow, WorkRow, now
from models.payload import MAX_ID


class PayloadIdsExhausted(CatalogError):
    """Every watermark payload id is taken."""


class PublishedStore:
    """Payload ids of published works."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def payload_id(self, work: Work, method: str) -> int:
        """The work's payload id, assigned (the next free one) on first use."""
        try:
            return self._payload_id(work, method)
        except IntegrityError:  # another writer took the same id or the same work
            return self._payload_id(work, method)

    def _payload_id(self, work: Work, method: str) -> int:
        with Session(self.engine) as s, s.begin():
            row = s.scalar(select(PublishedRow).where(PublishedRow.work_pk == work.pk))
            if row is not None:
                return row.payload_id
            top = s.scalar(select(func.max(PublishedRow.payload_id)))
            payload_id = 0 if top is None else top + 1
            if payload_id > MAX_ID:
                raise PayloadIdsExhausted(
                    f"all {MAX_ID + 1} watermark payload ids are taken; no more works can be "
                    "published under this data dir"
                )
            s.add(
                PublishedRow(
                    payload_id=payload_id, work_pk=work.pk, method=method, created_at=now()
                )
            )
            return payload_id

    def record(self, work: Work, actor: str, details: dict[str, Any]) -> None:
        """Audit one publication of a work (payload id, format, skipped fields, sha256)."""
        for attempt in (1, 2):  # a concurrent audit writer may take the same head once
            try:
                with Session(self.engine) as s, s.begin():
                    audit.append(s, actor, "work.publish", work.work_id, details)
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    def methods(self) -> set[str]:
        """Every watermark method a payload id was first issued with."""
        with Session(self.engine) as s:
            return set(s.scalars(select(PublishedRow.method).distinct()))

    def work_of(self, payload_id: int) -> Work | None:
        """The work a payload id names (removed or not), or None for an id never issued."""
        query = (
            select(WorkRow)
            .join(PublishedRow, PublishedRow.work_pk == WorkRow.id)
            .where(PublishedRow.payload_id == payload_id)
        )
        with Session(self.engine) as s:
            row = s.scalar(query)
            return Work.from_row(row) if row else None
