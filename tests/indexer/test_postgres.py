"""The catalog on PostgreSQL (a throwaway server started by the `postgres_url` fixture):
migrations, registration and removal, keys, terms, claims and the audit chain behave as on
SQLite, and the API runs on it end to end."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text, update
from sqlalchemy.orm import Session

from indexer import audit
from indexer.catalog import Catalog, NewWork
from indexer.claims import Claim, ClaimConflict, ClaimStore, now
from indexer.keys import KeyStore
from indexer.schema import AuditRow
from service.api.app import create_app
from service.calibration import Calibration
from service.runtime import build_runtime
from service.settings import Settings
from tests.fakes import HistogramEmbedder, PixelEmbedder


@pytest.fixture
def pg(postgres_url: str) -> Iterator[str]:
    """A fresh database on the session's server."""
    name = f"t_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield postgres_url.replace("/postgres?", f"/{name}?")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def test_catalog_keys_terms_and_audit_on_postgres(pg: str) -> None:
    catalog = Catalog(pg)
    tables = set(inspect(catalog.engine).get_table_names())
    assert {"works", "api_keys", "audit", "claims", "receipts"} <= tables
    work, created = catalog.add(NewWork("alice/a.png", "alice", "a" * 64, 1, 1, 1, "t"), {}, "k")
    again, created_again = catalog.add(NewWork("alice/a.png", "alice", "a" * 64, 1, 1, 1, "t"), {})
    assert created and not created_again and again.pk == work.pk
    catalog.set_creator_terms("alice", {"policy": "revshare", "revshare_rate": 0.2}, "k")
    assert catalog.terms_for(["alice"], ["alice/a.png"])[0]["alice"]["revshare_rate"] == 0.2
    keys = KeyStore(catalog.engine)
    key, secret = keys.create("creator", "alice", "pg", "admin-env")
    assert keys.check(secret) == key
    assert [w.work_id for w in catalog.remove_all("alice", "k")] == ["alice/a.png"]
    check = audit.verify(catalog.engine)
    assert check.ok and check.entries == 4
    with Session(catalog.engine) as s, s.begin():
        s.execute(update(AuditRow).where(AuditRow.seq == 2).values(subject="bob"))
    assert "entry 2 was altered" in audit.verify(catalog.engine).problem


def test_claim_moves_are_compare_and_set_on_postgres(pg: str) -> None:
    store = ClaimStore(Catalog(pg).engine)
    at = now()
    claim = Claim("c_1", "revshare", "open", "alice", "k", "q" * 64, at, at, [], {}, "p", [])
    store.add(claim)
    store.move("c_1", "open", "disputed", "platform", "mine")
    with pytest.raises(ClaimConflict, match="is disputed now, not open"):
        store.move("c_1", "open", "withdrawn", "alice", "late")
    assert [e.to_status for e in store.get("c_1").events] == ["open", "disputed"]


def test_racing_filings_of_one_claim_file_it_once_on_postgres(pg: str) -> None:
    """Under READ COMMITTED the racers cannot see each other's claim; the audit chain's
    unique `prev` fails all but one, and the retry then finds the winner's claim."""
    from concurrent.futures import ThreadPoolExecutor

    store, at = ClaimStore(Catalog(pg).engine), now()

    def add(i: int) -> str:
        claim = Claim(f"c_{i}", "revshare", "open", "alice", "k", "q" * 64, at, at, [], {}, "p", [])
        try:
            return store.add(claim).claim_id
        except ClaimConflict as e:
            return str(e)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(add, range(4)))
    won = [a for a in answers if a.startswith("c_")]
    assert len(won) == 1 and all("is already open" in a for a in answers if a not in won)


def test_the_api_runs_on_postgres(pg: str, tmp_path: object, fake_cal: Calibration) -> None:
    from tests.service.http import AUTH, art

    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, database_url=pg, admin_key=AUTH["Authorization"][7:], _env_file=None
    )
    runtime = build_runtime(settings, PixelEmbedder(), HistogramEmbedder(), fake_cal)
    with TestClient(create_app(settings, runtime)) as client:
        for seed in (1, 2):
            r = client.post(
                "/v1/works",
                headers=AUTH,
                data={"creator_id": "alice", "work_id": f"alice/w{seed}.png"},
                files={"image": ("w.png", art("alice", seed), "image/png")},
            )
            assert r.status_code == 201, r.text
        files = {"image": ("q.png", art("alice", 1), "image/png")}
        matched = client.post("/v1/match", headers=AUTH, files=files).json()
        assert matched["content"]["matches"][0]["work_id"] == "alice/w1.png"
        claim = client.post(
            "/v1/claims",
            headers=AUTH,
            data={"kind": "takedown", "creator_id": "alice"},
            files=files,
        )
        assert claim.status_code == 201, claim.text
        out = client.delete("/v1/creators/alice/works", headers=AUTH).json()
        assert out["removed"] == 2
        after = client.post("/v1/match", headers=AUTH, files=files).json()
        assert after["content"]["matches"] == []
        assert client.get("/v1/audit/verify", headers=AUTH).json()["ok"]
