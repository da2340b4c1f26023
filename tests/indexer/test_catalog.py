"""Catalog: migrations on a fresh database, idempotent registration, conflicts, tombstones."""

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

from indexer.catalog import _ALEMBIC_INI, Catalog, NewWork
from indexer.errors import InvalidId, WorkConflict, WorkNotFound
from indexer.ids import check_creator_id, check_work_id


def _work(work_id: str = "alice/a.png", sha: str = "a" * 64, creator: str = "alice") -> NewWork:
    return NewWork(work_id, creator, sha, 10, 4, 4, "test")


def _at_revision(url: str, revision: str) -> Config:
    """Migrate a new database at `url` only as far as `revision` (an older schema); the
    returned alembic config runs further commands through `cfg.attributes["connection"]`."""
    cfg = Config(str(_ALEMBIC_INI))
    with create_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return cfg


def test_fresh_database_is_migrated(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    tables = set(inspect(catalog.engine).get_table_names())
    assert {"creators", "works", "vectors", "state", "alembic_version"} <= tables


def test_register_is_idempotent_and_conflicts_are_refused(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    work, created = catalog.add(_work(), {("content", "m"): b"\0" * 8})
    again, created_again = catalog.add(_work(), {("content", "m"): b"\0" * 8})
    assert created and not created_again and again.pk == work.pk
    same_bytes_new_name, created3 = catalog.add(_work("alice/copy.png"), {})
    assert not created3 and same_bytes_new_name.pk == work.pk
    with pytest.raises(WorkConflict, match="different bytes"):
        catalog.add(_work(sha="b" * 64), {})
    with pytest.raises(WorkConflict, match="is taken"):  # not another creator's work back
        catalog.add(_work(creator="bob"), {})
    assert catalog.generation() == 1
    with pytest.raises(WorkConflict, match="under creator 'alice'"):  # found by QA
        catalog.add(_work("alice/b.png", sha="c" * 64, creator="bob"), {})
    assert catalog.add(_work("imports/b.png", sha="c" * 64, creator="bob"), {})[1]


def test_paging_after_a_key_skips_nothing_when_works_go_meanwhile(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    for k in range(6):
        catalog.add(_work(f"alice/{k}.png", sha=f"{k:064d}"), {})
    first = catalog.works(limit=2)
    catalog.remove("alice/0.png")  # an offset of 2 would now skip alice/2.png
    catalog.remove("alice/1.png")  # the page's last work itself may go too
    rest = catalog.works(limit=10, after=first[-1].work_id)
    assert [w.work_id for w in first + rest] == [f"alice/{k}.png" for k in range(6)]
    with pytest.raises(WorkNotFound, match="to list after"):
        catalog.works(after="alice/none.png")
    catalog.add(_work("bob/0.png", creator="bob", sha="b" * 64), {})
    with pytest.raises(WorkNotFound, match="to list after"):  # not a work of this listing
        catalog.works("alice", after="bob/0.png")


def test_remove_leaves_a_tombstone_and_frees_the_id(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    catalog.add(_work(), {("content", "m"): b"\1" * 8})
    removed = catalog.remove("alice/a.png")
    assert removed.removed_at is not None
    assert list(catalog.vectors("content", "m")) == []
    with pytest.raises(WorkNotFound):
        catalog.get("alice/a.png")
    with pytest.raises(WorkNotFound):
        catalog.remove("alice/a.png")
    work, created = catalog.add(_work(sha="c" * 64), {})
    assert created and catalog.get("alice/a.png").pk == work.pk
    assert catalog.generation() == 3


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "../x",
        "a/../b",
        "a//b",
        "/abs",
        "a\\b",
        "a\0b",
        "x" * 1001,
        "a/\u202egnp.exe",
        "a\u200b/b",
    ],
)
def test_bad_work_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidId):
        check_work_id(bad)


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "-x", "x" * 201, "a b", "name'; DROP"])
def test_bad_creator_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidId):
        check_creator_id(bad)


def test_good_ids_pass() -> None:
    assert check_work_id("alice/sunset.png") == "alice/sunset.png"
    assert check_work_id("zoë/café au lait.png") == "zoë/café au lait.png"
    assert check_creator_id("alice_b-2") == "alice_b-2"


def test_a_database_from_before_accounts_is_upgraded_in_place(tmp_path: Path) -> None:
    """0001 -> head keeps the works and gives them empty terms."""
    from indexer import audit

    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    _at_revision(url, "0001")
    with create_engine(url).begin() as conn:
        conn.exec_driver_sql("INSERT INTO creators VALUES ('alice', '2025-01-01 00:00:00')")
        conn.exec_driver_sql(
            "INSERT INTO works (work_id, creator_id, sha256, size_bytes, width, height, source,"
            " registered_at, meta) VALUES ('alice/a.png', 'alice', 'aa', 1, 1, 1, 's',"
            " '2025-01-01 00:00:00', '{}')"
        )
    catalog = Catalog(url)
    work = catalog.get("alice/a.png")
    assert work.terms == {} and catalog.terms_for(["alice"], [])[0] == {"alice": {}}
    assert audit.verify(catalog.engine).ok
    catalog.remove("alice/a.png", "cli")
    assert [e.action for e in audit.entries(catalog.engine)] == ["work.remove"]


def test_stored_keypoints_are_rekeyed_by_their_extraction(tmp_path: Path) -> None:
    """0005 -> head moves keypoints stored under the scoring's id to the extraction's id,
    bytes unchanged; a work that already has both keeps the newer."""
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    old = "sift-root-512-n500+ransac-sim-r0.8-px8-h512+share@opencv-5.0.0.93"
    new = "sift-root-512-n500@opencv-5.0.0.93"
    cfg = _at_revision(url, "0005")
    with create_engine(url).begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO creators (creator_id, created_at) VALUES ('alice', '2025-01-01 00:00:00')"
        )
        for pk in (1, 2):
            conn.exec_driver_sql(
                "INSERT INTO works (id, work_id, creator_id, sha256, size_bytes, width, height,"
                f" source, registered_at, meta) VALUES ({pk}, 'alice/{pk}.png', 'alice', '{pk}',"
                " 1, 1, 1, 's', '2025-01-01 00:00:00', '{}')"
            )
            conn.exec_driver_sql(f"INSERT INTO vectors VALUES ({pk}, 'local', '{old}', X'0{pk}')")
        conn.exec_driver_sql(f"INSERT INTO vectors VALUES (2, 'local', '{new}', X'22')")
        conn.exec_driver_sql(f"INSERT INTO vectors VALUES (1, 'pdq', '{old}', X'33')")
    catalog = Catalog(url)
    assert catalog.vectors_of([1, 2], "local", new) == {1: b"\x01", 2: b"\x22"}
    assert catalog.vectors_of([1, 2], "local", old) == {}
    assert catalog.vectors_of([1], "pdq", old) == {1: b"\x33"}  # other spaces untouched
    with catalog.engine.begin() as conn:  # and back
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    assert catalog.vectors_of([1, 2], "local", old) == {1: b"\x01", 2: b"\x22"}


def test_claims_filed_before_0007_still_read_and_block_their_bytes(tmp_path: Path) -> None:
    """0007 keeps each claim's pixel digest; a claim filed before has none and is found by
    its bytes, as before."""
    from datetime import datetime

    from sqlalchemy import text

    from indexer.claims import ClaimStore

    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    _at_revision(url, "0006")
    at = datetime(2026, 1, 1)
    with create_engine(url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO claims (claim_id, kind, status, creator_id, claimant, query_sha256,"
                " created_at, dispute_until, matched, result, packet_sha256) VALUES"
                " ('c_old', 'revshare', 'open', 'alice', 'k', :sha, :at, :at, '[]', '{}', 'p')"
            ),
            {"sha": "q" * 64, "at": at},
        )
    store = ClaimStore(Catalog(url).engine)  # opening migrates it to the head
    old = store.pending("alice", "q" * 64, "p" * 64)
    assert old is not None and old.claim_id == "c_old" and old.query_pixels is None
    assert store.pending("alice", "r" * 64, "p" * 64) is None
