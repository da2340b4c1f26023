"""Every /v1 route, tried by creator bob against creator alice's things: each attempt is
refused (403/404) or answers without any of alice's data. The table must name every route
the app serves, so a new route cannot ship without its tenant check."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.http import AUTH, art, bearer, new_key, register_as

Attempt = Callable[[TestClient, dict[str, str], dict[str, str]], Any]


def _img(seed: int) -> dict[str, Any]:
    return {"image": ("q.png", art("alice", seed), "image/png")}


ATTEMPTS: dict[tuple[str, str], Attempt] = {
    ("post", "/v1/works"): lambda c, h, ids: c.post(
        "/v1/works", headers=h, data={"creator_id": "alice"}, files=_img(9)
    ),
    ("get", "/v1/works"): lambda c, h, ids: c.get("/v1/works?creator_id=alice", headers=h),
    ("get", "/v1/works/{work_id}"): lambda c, h, ids: c.get("/v1/works/alice/w1.png", headers=h),
    ("delete", "/v1/works/{work_id}"): lambda c, h, ids: c.delete(
        "/v1/works/alice/w1.png", headers=h
    ),
    ("delete", "/v1/creators/{creator_id}/works"): lambda c, h, ids: c.delete(
        "/v1/creators/alice/works", headers=h
    ),
    ("get", "/v1/receipts/{receipt_id}"): lambda c, h, ids: c.get(
        f"/v1/receipts/{ids['receipt']}", headers=h
    ),
    ("post", "/v1/match"): lambda c, h, ids: c.post("/v1/match", headers=h, files=_img(1)),
    ("get", "/v1/terms/creators/{creator_id}"): lambda c, h, ids: c.get(
        "/v1/terms/creators/alice", headers=h
    ),
    ("put", "/v1/terms/creators/{creator_id}"): lambda c, h, ids: c.put(
        "/v1/terms/creators/alice", headers=h, json={"policy": "track"}
    ),
    ("get", "/v1/terms/works/{work_id}"): lambda c, h, ids: c.get(
        "/v1/terms/works/alice/w1.png", headers=h
    ),
    ("put", "/v1/terms/works/{work_id}"): lambda c, h, ids: c.put(
        "/v1/terms/works/alice/w1.png", headers=h, json={"policy": "track"}
    ),
    ("post", "/v1/keys"): lambda c, h, ids: c.post(
        "/v1/keys", headers=h, json={"role": "creator", "creator_id": "alice"}
    ),
    ("get", "/v1/keys"): lambda c, h, ids: c.get("/v1/keys", headers=h),
    ("delete", "/v1/keys/{key_id}"): lambda c, h, ids: c.delete(
        f"/v1/keys/{ids['alice_key']}", headers=h
    ),
    ("get", "/v1/audit"): lambda c, h, ids: c.get("/v1/audit", headers=h),
    ("get", "/v1/audit/verify"): lambda c, h, ids: c.get("/v1/audit/verify", headers=h),
    ("post", "/v1/claims"): lambda c, h, ids: c.post(
        "/v1/claims", headers=h, data={"kind": "takedown", "creator_id": "alice"}, files=_img(1)
    ),
    ("get", "/v1/claims"): lambda c, h, ids: c.get("/v1/claims?creator_id=alice", headers=h),
    ("get", "/v1/claims/{claim_id}"): lambda c, h, ids: c.get(
        f"/v1/claims/{ids['claim']}", headers=h
    ),
    ("post", "/v1/claims/{claim_id}/{action}"): lambda c, h, ids: c.post(
        f"/v1/claims/{ids['claim']}/withdraw", headers=h, json={"reason": "mine now"}
    ),
    ("get", "/v1/claims/{claim_id}/evidence"): lambda c, h, ids: c.get(
        f"/v1/claims/{ids['claim']}/evidence", headers=h
    ),
    ("post", "/v1/evidence"): lambda c, h, ids: c.post("/v1/evidence", headers=h, files=_img(1)),
    ("get", "/v1/me"): lambda c, h, ids: c.get("/v1/me", headers=h),
    ("get", "/v1/published/{work_id}"): lambda c, h, ids: c.get(
        "/v1/published/alice/w1.png", headers=h
    ),
    ("get", "/v1/thumbnails/{work_id}"): lambda c, h, ids: c.get(
        "/v1/thumbnails/alice/w1.png", headers=h
    ),
    ("post", "/v1/scans"): lambda c, h, ids: c.post("/v1/scans", headers=h, data={"folder": "."}),
    ("get", "/v1/scans"): lambda c, h, ids: c.get("/v1/scans", headers=h),
    ("get", "/v1/scans/preview"): lambda c, h, ids: c.get(
        "/v1/scans/preview?path=alice.png", headers=h
    ),
    ("get", "/v1/scans/{job_id}"): lambda c, h, ids: c.get("/v1/scans/s_1", headers=h),
    ("get", "/v1/scans/{job_id}/rows"): lambda c, h, ids: c.get("/v1/scans/s_1/rows", headers=h),
    ("post", "/v1/scans/{job_id}/resume"): lambda c, h, ids: c.post(
        "/v1/scans/s_1/resume", headers=h
    ),
    ("post", "/v1/scans/{job_id}/cancel"): lambda c, h, ids: c.post(
        "/v1/scans/s_1/cancel", headers=h
    ),
    ("get", "/v1/scans/{job_id}/results.csv"): lambda c, h, ids: c.get(
        "/v1/scans/s_1/results.csv", headers=h
    ),
}


def test_the_table_covers_every_route(client: TestClient) -> None:
    served = {
        (method, path)
        for path, ops in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        if path.startswith("/v1")
        for method in ops
    }
    assert served == set(ATTEMPTS)


def _alice_world(client: TestClient) -> dict[str, str]:
    alice = new_key(client, "creator", "alice")
    for seed in (1, 2, 3):
        assert register_as(client, alice, "alice", seed).status_code == 201
    claim = client.post(
        "/v1/claims", headers=bearer(alice), data={"kind": "revshare"}, files=_img(1)
    ).json()["claim_id"]
    receipt = client.delete("/v1/works/alice/w3.png", headers=bearer(alice)).json()["receipt"]
    return {"alice_key": alice["id"], "claim": claim, "receipt": receipt["body"]["receipt_id"]}


@pytest.mark.parametrize("route", sorted(ATTEMPTS), ids=" ".join)
def test_bob_never_reaches_alices_things(client: TestClient, route: tuple[str, str]) -> None:
    ids = _alice_world(client)
    bob = new_key(client, "creator", "bob")
    assert register_as(client, bob, "bob", 101).status_code == 201
    before = client.get("/v1/audit?limit=1000", headers=AUTH).json()["entries"]
    answer = ATTEMPTS[route](client, bearer(bob), ids)
    if answer.status_code >= 400:
        assert answer.status_code in (403, 404), (route, answer.status_code, answer.text)
    else:  # allowed routes answer with bob's own view: nothing of alice's in it
        text = answer.text
        if answer.headers["content-type"] == "application/zip":
            packet = zipfile.ZipFile(io.BytesIO(answer.content))
            text = "".join(packet.read(n).decode() for n in ("result.json", "manifest.json"))
        assert "alice" not in text, route
    after = client.get("/v1/audit?limit=1000", headers=AUTH).json()["entries"]
    assert [e for e in after if e["subject"].startswith("alice")] == [
        e for e in before if e["subject"].startswith("alice")
    ]  # and nothing of alice's changed
    assert client.get("/v1/works/alice/w1.png", headers=AUTH).status_code == 200
    terms = client.get("/v1/terms/creators/alice", headers=AUTH).json()
    assert json.dumps(terms).count("track") == 1
