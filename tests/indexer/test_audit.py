"""The audit log: registrations, removals, keys and terms are chained; editing, deleting or
truncating any entry is detected and named."""

from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from indexer import audit
from indexer.catalog import Catalog, NewWork
from indexer.keys import KeyStore
from indexer.schema import AuditRow


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    for i in range(3):
        catalog.add(NewWork(f"alice/{i}.png", "alice", f"{i}" * 64, 10, 4, 4, "t"), {}, "key:a")
    catalog.remove("alice/1.png", "key:b")
    catalog.set_creator_terms("alice", {"policy": "takedown"}, "key:a")
    KeyStore(catalog.engine).create("platform", None, "screening", "admin-env")
    return catalog


def test_every_change_is_recorded_in_order(catalog: Catalog) -> None:
    log = audit.entries(catalog.engine)
    assert [(e.action, e.subject, e.actor) for e in log[:5]] == [
        ("work.register", "alice/0.png", "key:a"),
        ("work.register", "alice/1.png", "key:a"),
        ("work.register", "alice/2.png", "key:a"),
        ("work.remove", "alice/1.png", "key:b"),
        ("terms.creator", "alice", "key:a"),
    ]
    assert log[5].action == "key.create"
    assert [e.prev for e in log[1:]] == [e.digest for e in log[:-1]]
    check = audit.verify(catalog.engine)
    assert check.ok and check.entries == 6 and check.head == log[-1].digest


def test_idempotent_registration_adds_no_entry(catalog: Catalog) -> None:
    catalog.add(NewWork("alice/0.png", "alice", "0" * 64, 10, 4, 4, "t"), {}, "key:a")
    assert audit.verify(catalog.engine).entries == 6


def _tamper(catalog: Catalog, statement: object) -> None:
    with Session(catalog.engine) as s, s.begin():
        s.execute(statement)  # type: ignore[call-overload]


def test_an_edited_entry_is_detected(catalog: Catalog) -> None:
    _tamper(catalog, update(AuditRow).where(AuditRow.seq == 4).values(actor="key:someone-else"))
    check = audit.verify(catalog.engine)
    assert not check.ok and "entry 4 was altered" in check.problem


def test_edited_details_are_detected(catalog: Catalog) -> None:
    _tamper(catalog, update(AuditRow).where(AuditRow.seq == 5).values(details={"after": {}}))
    assert "entry 5 was altered" in audit.verify(catalog.engine).problem


def test_a_deleted_entry_is_detected(catalog: Catalog) -> None:
    _tamper(catalog, delete(AuditRow).where(AuditRow.seq == 2))
    check = audit.verify(catalog.engine)
    assert not check.ok and "entry 2 is missing" in check.problem


def test_a_deleted_last_entry_is_detected(catalog: Catalog) -> None:
    _tamper(catalog, delete(AuditRow).where(AuditRow.seq == 6))
    check = audit.verify(catalog.engine)
    assert not check.ok and "6 entries were written, 5 remain" in check.problem


def test_a_rewritten_chain_tail_is_detected(catalog: Catalog) -> None:
    """Re-hashing an edited entry still breaks the link from the entry after it."""
    with Session(catalog.engine) as s, s.begin():
        row = s.get(AuditRow, 3)
        assert row is not None
        row.subject = "alice/other.png"
        row.digest = audit.digest_of(
            row.seq, row.at, row.actor, row.action, row.subject, row.details, row.prev
        )
    assert "entry 4 does not follow entry 3" in audit.verify(catalog.engine).problem
