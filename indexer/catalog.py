"""The catalog: creators, works, their raw vectors and the generation counter, stored through
SQLAlchemy (SQLite by default, any SQLAlchemy URL such as PostgreSQL) with Alembic migrations."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from indexer import audit
from indexer.errors import CreatorNotFound, WorkConflict, WorkNotFound
from indexer.ids import canonical
from indexer.schema import CreatorRow, ReceiptRow, StateRow, VectorRow, WorkRow, now

_ALEMBIC_INI = Path(__file__).parent / "alembic.ini"


@dataclass(frozen=True)
class Work:
    """A registered work as the rest of the program sees it."""

    pk: int
    work_id: str
    creator_id: str
    sha256: str
    size_bytes: int
    width: int
    height: int
    source: str
    registered_at: datetime
    removed_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    terms: dict[str, Any] = field(default_factory=dict)  # overrides of the creator's terms

    @property
    def warnings(self) -> list[str]:
        """What registration found about the work (an ownership conflict, metadata naming
        another creator)."""
        return [str(w) for w in self.meta.get("warnings", [])]

    @classmethod
    def from_row(cls, row: WorkRow) -> Work:
        return cls(
            row.id,
            row.work_id,
            row.creator_id,
            row.sha256,
            row.size_bytes,
            row.width,
            row.height,
            row.source,
            row.registered_at,
            row.removed_at,
            dict(row.meta or {}),
            dict(row.terms or {}),
        )


@dataclass(frozen=True)
class NewWork:
    """What registration knows about a work before it is stored."""

    work_id: str
    creator_id: str
    sha256: str
    size_bytes: int
    width: int
    height: int
    source: str
    meta: dict[str, Any] = field(default_factory=dict)


def open_engine(url: str) -> Engine:
    """Engine for `url`, migrated to the newest schema. SQLite gets WAL and a busy timeout."""
    is_sqlite = url.startswith("sqlite")
    args = {"check_same_thread": False, "timeout": 30} if is_sqlite else {}
    engine = create_engine(url, connect_args=args)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    cfg = Config(str(_ALEMBIC_INI))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Catalog:
    """Creators and works. Every acknowledged change is committed before it is returned."""

    def __init__(self, url: str) -> None:
        self.engine = open_engine(url)
        self._identity: int | None = None

    def get(self, work_id: str) -> Work:
        """The active work with this id, or WorkNotFound."""
        with Session(self.engine) as s:
            row = self._active(s, work_id)
            return Work.from_row(row)

    def add(
        self, new: NewWork, vectors: dict[tuple[str, str], bytes], actor: str = "system"
    ) -> tuple[Work, bool]:
        """Store a work and its raw vectors in one transaction, audited. Returns (work,
        created); identical bytes already registered under the same id or creator return the
        existing work with created=False."""
        try:
            return self._add(new, vectors, actor)
        except IntegrityError:  # another writer inserted the same id, creator or audit entry
            return self._add(new, vectors, actor)

    def _add(
        self, new: NewWork, vectors: dict[tuple[str, str], bytes], actor: str
    ) -> tuple[Work, bool]:
        with Session(self.engine) as s, s.begin():
            existing = s.scalar(select(WorkRow).where(WorkRow.work_id == new.work_id))
            if existing is not None and existing.removed_at is None:
                if existing.creator_id != new.creator_id:  # never hand over another's work
                    raise WorkConflict(f"work id {new.work_id!r} is taken; choose another")
                if existing.sha256 != new.sha256:
                    raise WorkConflict(
                        f"work {new.work_id!r} is already registered with "
                        "different bytes; remove it first to replace it"
                    )
                return Work.from_row(existing), False
            prefix = new.work_id.split("/", 1)[0] if "/" in new.work_id else None
            if prefix not in (None, new.creator_id) and s.get(CreatorRow, prefix) is not None:
                raise WorkConflict(  # else its creator meets a 409 and a 404 on one id
                    f"work id {new.work_id!r} is under creator {prefix!r}'s name; "
                    f"choose one under {new.creator_id + '/'!r} or another prefix"
                )
            same = s.scalar(
                select(WorkRow).where(
                    WorkRow.sha256 == new.sha256,
                    WorkRow.creator_id == new.creator_id,
                    WorkRow.removed_at.is_(None),
                )
            )
            if same is not None:
                return Work.from_row(same), False
            if existing is not None:  # a tombstone under the same id: free the id for reuse
                existing.work_id = f"{existing.work_id}#removed-{existing.id}"
                s.flush()
            if s.get(CreatorRow, new.creator_id) is None:
                s.add(CreatorRow(creator_id=new.creator_id, created_at=now(), terms={}))
            row = WorkRow(
                work_id=new.work_id,
                creator_id=new.creator_id,
                sha256=new.sha256,
                size_bytes=new.size_bytes,
                width=new.width,
                height=new.height,
                source=new.source,
                registered_at=now(),
                meta=new.meta,
                terms={},
            )
            s.add(row)
            s.flush()
            s.add_all(
                VectorRow(work_pk=row.id, space=space, model_id=model_id, data=data)
                for (space, model_id), data in vectors.items()
            )
            self._bump(s)
            audit.append(
                s,
                actor,
                "work.register",
                new.work_id,
                {
                    "creator_id": new.creator_id,
                    "sha256": new.sha256,
                    "pk": row.id,
                    "warnings": new.meta.get("warnings", []),
                },
            )
            return Work.from_row(row), True

    def remove(self, work_id: str, actor: str = "system") -> Work:
        """Tombstone an active work and delete its vectors, audited."""
        with Session(self.engine) as s, s.begin():
            row = self._active(s, work_id)
            return self._tombstone(s, row, actor)

    def remove_all(self, creator_id: str, actor: str = "system") -> list[Work]:
        """Tombstone every active work of a creator in one transaction (opt-out); none for a
        creator whose works are all removed, CreatorNotFound for a name never registered."""
        with Session(self.engine) as s, s.begin():
            if s.get(CreatorRow, creator_id) is None:
                raise CreatorNotFound(
                    f"no creator {creator_id!r} in the catalog: nothing was ever registered "
                    "under that name, so there is nothing to opt out"
                )
            rows = s.scalars(
                select(WorkRow)
                .where(WorkRow.creator_id == creator_id, WorkRow.removed_at.is_(None))
                .order_by(WorkRow.id)
            ).all()
            return [self._tombstone(s, row, actor) for row in rows]

    @staticmethod
    def _active(s: Session, work_id: str) -> WorkRow:
        """The active work's row, or WorkNotFound; an id given decomposed finds the work
        kept composed (`canonical`), one kept as given before ids were composed finds itself."""
        for spelling in dict.fromkeys((work_id, canonical(work_id))):
            active = WorkRow.work_id == spelling, WorkRow.removed_at.is_(None)
            if (row := s.scalar(select(WorkRow).where(*active))) is not None:
                return row
        raise WorkNotFound(f"no registered work with id {work_id!r}")

    def _tombstone(self, s: Session, row: WorkRow, actor: str) -> Work:
        row.removed_at = now()
        s.query(VectorRow).filter(VectorRow.work_pk == row.id).delete()
        self._bump(s)
        audit.append(
            s,
            actor,
            "work.remove",
            row.work_id,
            {"creator_id": row.creator_id, "sha256": row.sha256, "pk": row.id},
        )
        return Work.from_row(row)

    def in_use(self, sha256: str) -> bool:
        """Does any active work have these bytes?"""
        query = select(WorkRow.id).where(WorkRow.sha256 == sha256, WorkRow.removed_at.is_(None))
        with Session(self.engine) as s:
            return s.scalar(query.limit(1)) is not None

    def add_receipt(
        self, receipt_id: str, kind: str, creator_id: str, signed: dict[str, Any]
    ) -> None:
        """Keep a signed receipt."""
        with Session(self.engine) as s, s.begin():
            s.add(
                ReceiptRow(
                    receipt_id=receipt_id,
                    created_at=now(),
                    kind=kind,
                    creator_id=creator_id,
                    signed=signed,
                )
            )

    def receipt(self, receipt_id: str) -> tuple[str, dict[str, Any]] | None:
        """(creator id, signed receipt), or None."""
        with Session(self.engine) as s:
            row = s.get(ReceiptRow, receipt_id)
            return (row.creator_id, dict(row.signed)) if row else None

    def set_creator_terms(self, creator_id: str, terms: dict[str, Any], actor: str) -> None:
        """Replace a creator's consent terms (the creator need not have works yet), audited."""
        with Session(self.engine) as s, s.begin():
            row = s.get(CreatorRow, creator_id)
            if row is None:
                row = CreatorRow(creator_id=creator_id, created_at=now(), terms={})
                s.add(row)
            before = dict(row.terms or {})
            row.terms = dict(terms)
            audit.append(s, actor, "terms.creator", creator_id, {"before": before, "after": terms})

    def set_work_terms(self, work_id: str, terms: dict[str, Any], actor: str) -> Work:
        """Replace an active work's overrides of its creator's terms, audited."""
        with Session(self.engine) as s, s.begin():
            row = self._active(s, work_id)
            before = dict(row.terms or {})
            row.terms = dict(terms)
            audit.append(s, actor, "terms.work", work_id, {"before": before, "after": terms})
            return Work.from_row(row)

    def terms_for(
        self, creator_ids: Iterable[str], work_ids: Iterable[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """Stored terms of some creators and overrides of some active works, read fresh
        (a change applies to the very next match); missing ones map to {}."""
        creators, works = list(set(creator_ids)), list(set(work_ids))
        with Session(self.engine) as s:
            rows = s.execute(
                select(CreatorRow.creator_id, CreatorRow.terms).where(
                    CreatorRow.creator_id.in_(creators)
                )
            )
            found_c = {c: dict(t or {}) for c, t in rows}
            rows = s.execute(
                select(WorkRow.work_id, WorkRow.terms).where(
                    WorkRow.work_id.in_(works), WorkRow.removed_at.is_(None)
                )
            )
            found_w = {w: dict(t or {}) for w, t in rows}
        return {c: found_c.get(c, {}) for c in creators}, {w: found_w.get(w, {}) for w in works}

    def works(
        self,
        creator_id: str | None = None,
        limit: int = 1000,
        offset: int = 0,
        after: str | None = None,
    ) -> list[Work]:
        """Active works, oldest first, optionally of one creator. `after` (a work id of this
        listing, removed or not) starts after that work: a walk that removals meanwhile
        cannot shift; WorkNotFound when there is no such work."""
        query = select(WorkRow).where(WorkRow.removed_at.is_(None))
        if creator_id is not None:
            query = query.where(WorkRow.creator_id == creator_id)
        with Session(self.engine) as s:
            if after is not None:
                mark = s.scalar(select(WorkRow).where(WorkRow.work_id == after))
                if mark is None or creator_id not in (None, mark.creator_id):
                    raise WorkNotFound(f"no work with id {after[:200]!r} to list after")
                query = query.where(WorkRow.id > mark.id)
            rows = s.scalars(query.order_by(WorkRow.id).offset(offset).limit(limit))
            return [Work.from_row(r) for r in rows]

    def active(self) -> dict[int, Work]:
        """All active works by integer key."""
        with Session(self.engine) as s:
            rows = s.scalars(select(WorkRow).where(WorkRow.removed_at.is_(None)))
            return {r.id: Work.from_row(r) for r in rows}

    def vectors(self, space: str, model_id: str) -> Iterator[tuple[int, bytes]]:
        """(work key, raw vector bytes) of active works in one space and model."""
        query = (
            select(VectorRow.work_pk, VectorRow.data)
            .join(WorkRow, WorkRow.id == VectorRow.work_pk)
            .where(
                VectorRow.space == space,
                VectorRow.model_id == model_id,
                WorkRow.removed_at.is_(None),
            )
        )
        with Session(self.engine) as s:
            yield from ((pk, data) for pk, data in s.execute(query))

    def vectors_of(self, pks: Sequence[int], space: str, model_id: str) -> dict[int, bytes]:
        """Raw vector bytes of some works in one space and model, where stored."""
        query = select(VectorRow.work_pk, VectorRow.data).where(
            VectorRow.work_pk.in_(list(pks)),
            VectorRow.space == space,
            VectorRow.model_id == model_id,
        )
        with Session(self.engine) as s:
            return {pk: data for pk, data in s.execute(query)}

    def put_vectors(self, pk: int, vectors: dict[tuple[str, str], bytes]) -> None:
        """Store (or replace) raw vectors of a work, e.g. after a model change."""
        with Session(self.engine) as s, s.begin():
            for (space, model_id), data in vectors.items():
                s.merge(VectorRow(work_pk=pk, space=space, model_id=model_id, data=data))

    def identity(self) -> int:
        """A random number drawn once per catalog database and kept in it: tells the index
        snapshots written from it from those of another database behind the same data
        directory."""
        if self._identity is None:
            self._identity = self._read_or_draw_identity()
        return self._identity

    def _read_or_draw_identity(self) -> int:
        read = select(StateRow.value).where(StateRow.key == "catalog_id")
        with Session(self.engine) as s:
            found = s.scalar(read)
        if found is not None:
            return found
        try:
            with Session(self.engine) as s, s.begin():
                s.add(StateRow(key="catalog_id", value=secrets.randbits(31)))
        except IntegrityError:  # another process drew it first: theirs stands
            pass
        with Session(self.engine) as s:
            drawn = s.scalar(read)
        if drawn is None:
            raise RuntimeError("the catalog lost its identity row while it was drawn")
        return drawn

    def generation(self) -> int:
        """Number of committed registrations and removals so far."""
        with Session(self.engine) as s:
            return s.scalar(select(StateRow.value).where(StateRow.key == "generation")) or 0

    @staticmethod
    def _bump(s: Session) -> None:
        result = s.execute(
            update(StateRow).where(StateRow.key == "generation").values(value=StateRow.value + 1)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            s.add(StateRow(key="generation", value=1))
