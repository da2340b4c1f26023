"""Opt-out: a creator removes one work or all of them; no removed work can match afterwards
(also after a restart), originals are deleted, and the signed receipt verifies offline while
a tampered one does not."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from service.api.app import create_app
from service.calibration import Calibration
from service.runtime import Runtime, build_runtime
from service.settings import Settings
from service.verify import verify_receipt
from tests.fakes import HistogramEmbedder, PixelEmbedder
from tests.service.http import AUTH, art, bearer, checked_client, new_key, register_as


def _creators_seen(result: dict[str, Any]) -> set[str]:
    seen = {m["creator_id"] for m in result["content"]["matches"] + result["style"]["matches"]}
    return seen | {c["creator_id"] for c in result["style"]["creators"]}


def _match(client: TestClient, data: bytes) -> dict[str, Any]:
    r = client.post("/v1/match", headers=AUTH, files={"image": ("q.png", data, "image/png")})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_opt_out_removes_everything_with_a_signed_receipt(
    client: TestClient,
    runtime: Runtime,
    settings: Settings,
    fake_cal: Calibration,
) -> None:
    alice, bob = new_key(client, "creator", "alice"), new_key(client, "creator", "bob")
    seeds = {"alice": (1, 2, 3), "bob": (101, 102)}
    for creator, numbers in seeds.items():
        for seed in numbers:
            key = alice if creator == "alice" else bob
            assert register_as(client, key, creator, seed).status_code == 201
    originals = {w.sha256 for w in runtime.library.catalog.works("alice")}
    assert all(runtime.library.blobs.path(sha).exists() for sha in originals)
    assert "alice" in _creators_seen(_match(client, art("alice", 1)))

    assert client.delete("/v1/creators/alice/works", headers=bearer(bob)).status_code == 404
    r = client.delete("/v1/creators/alice/works", headers=bearer(alice))
    assert r.status_code == 200 and r.json()["removed"] == 3
    receipt = r.json()["receipt"]
    assert [w["work_id"] for w in receipt["body"]["removed"]] == [
        f"alice/w{s}.png" for s in seeds["alice"]
    ]
    assert verify_receipt(receipt) == []
    assert verify_receipt(receipt, runtime.signer.public_key) == []
    forged = copy.deepcopy(receipt)
    forged["body"]["removed"].pop()
    assert verify_receipt(forged) == ["the signature does not match the signed content"]

    for seed in seeds["alice"]:  # no removed work matches, by content or by style
        assert "alice" not in _creators_seen(_match(client, art("alice", seed)))
    assert not any(runtime.library.blobs.path(sha).exists() for sha in originals)
    fetched = client.get(f"/v1/receipts/{receipt['body']['receipt_id']}", headers=bearer(alice))
    assert fetched.json() == receipt
    hidden = client.get(f"/v1/receipts/{receipt['body']['receipt_id']}", headers=bearer(bob))
    assert hidden.status_code == 404
    assert client.get("/v1/works", headers=bearer(alice)).json()["works"] == []

    runtime.library.save()
    restarted = build_runtime(settings, PixelEmbedder(), HistogramEmbedder(), fake_cal)
    with checked_client(create_app(settings, restarted)) as again:
        for seed in seeds["alice"]:
            assert "alice" not in _creators_seen(_match(again, art("alice", seed)))
        assert "bob" in _creators_seen(_match(again, art("bob", 101)))


def test_opting_out_a_name_never_registered_is_a_404_not_a_receipt(client: TestClient) -> None:
    """A mistyped creator id used to get a signed receipt for 0 works, which reads like a
    successful opt-out; a creator whose works are all removed still gets one (repeatable)."""
    r = client.delete("/v1/creators/alicee/works", headers=AUTH)
    assert r.status_code == 404 and r.json()["error"]["code"] == "creator_not_found"
    assert "nothing was ever registered under that name" in r.json()["error"]["message"]
    alice = new_key(client, "creator", "alice")
    assert register_as(client, alice, "alice", 1).status_code == 201
    first = client.delete("/v1/creators/alice/works", headers=bearer(alice))
    again = client.delete("/v1/creators/alice/works", headers=bearer(alice))
    assert (first.status_code, first.json()["removed"]) == (200, 1)
    assert (again.status_code, again.json()["removed"]) == (200, 0)


def test_removing_one_work_gives_its_receipt(client: TestClient, runtime: Runtime) -> None:
    alice = new_key(client, "creator", "alice")
    register_as(client, alice, "alice", 1)
    r = client.delete("/v1/works/alice/w1.png", headers=bearer(alice))
    body = r.json()["receipt"]["body"]
    assert body["removed"][0]["work_id"] == "alice/w1.png" and body["kind"] == "removal"
    assert body["audit_head"] == client.get("/v1/audit/verify", headers=AUTH).json()["head"]
    assert verify_receipt(r.json()["receipt"]) == []


def test_a_receipt_signed_by_another_key_is_refused(runtime: Runtime, tmp_path: Any) -> None:
    from service.signing import Signer

    other = Signer.load_or_create(tmp_path / "other.pem")
    signed = other.signed({"receipt_id": "r_x", "removed": []})
    assert verify_receipt(signed) == []  # it is a valid signature...
    assert verify_receipt(signed, runtime.signer.public_key) == [  # ...by an untrusted key
        "signed with another key than the trusted one"
    ]
