"""Claims end to end over HTTP: filing from a match, the lifecycle with its roles and dispute
window, evidence packets that verify offline (and fail when tampered with), re-running a
packet's match, and decided claims exported as labelled data."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from fastapi.testclient import TestClient

from models.images import load_image_bytes
from service.claims import labelled
from service.evidence import (
    PacketCheck,
    listed_matches,
    rematch_problems,
    removed_since,
    unreached,
    verify_packet,
)
from service.runtime import Runtime
from service.schemas import MatchResult
from service.settings import Settings
from tests.service.http import AUTH, Keys, art, bearer


def _file(client: TestClient, key: dict[str, str], data: bytes, **form: str) -> Any:
    return client.post(
        "/v1/claims",
        headers=bearer(key),
        data={"kind": "revshare"} | form,
        files={"image": ("q.png", data, "image/png")},
    )


def _act(client: TestClient, key: dict[str, str], claim_id: str, action: str) -> Any:
    return client.post(
        f"/v1/claims/{claim_id}/{action}", headers=bearer(key), json={"reason": f"{action} test"}
    )


def test_a_claim_is_filed_from_a_match_with_a_packet(client: TestClient, keys: Keys) -> None:
    r = _file(client, keys["alice"], art("alice", 1))
    assert r.status_code == 201, r.text
    claim = r.json()
    assert claim["status"] == "open" and claim["creator_id"] == "alice"
    assert {"via": "content", "work_id": "alice/w1.png"}.items() <= claim["matched"][0].items()
    assert {m["creator_id"] for m in claim["matched"]} == {"alice"}
    assert [e["to_status"] for e in claim["events"]] == ["open"]
    packet = client.get(f"/v1/claims/{claim['claim_id']}/evidence", headers=bearer(keys["alice"]))
    assert packet.headers["content-type"] == "application/zip"
    checked = verify_packet(packet.content)
    assert checked.problems == []
    assert checked.body["context"]["claim_id"] == claim["claim_id"]
    assert checked.body["models"]["index"] and checked.body["policy"] is not None
    names = set(zipfile.ZipFile(io.BytesIO(packet.content)).namelist())
    assert names == {
        "manifest.json",
        "query.bin",
        "query_thumbnail.png",
        "side_by_side.png",
        "result.json",
    }


def test_claims_need_a_match_and_the_right_key(client: TestClient, keys: Keys) -> None:
    refused = _file(client, keys["alice"], art("bob", 101))
    assert (
        refused.status_code == 422
        and "does not match the works of creator 'alice'" in (refused.json()["error"]["message"])
    )
    assert _file(client, keys["alice"], art("bob", 101), creator_id="bob").status_code == 403
    for role in ("platform", "reviewer"):
        assert _file(client, keys[role], art("alice", 1), creator_id="alice").status_code == 403
    on_behalf = _file(client, {"Authorization": AUTH["Authorization"]}, art("bob", 101))
    assert on_behalf.status_code == 422  # an admin must name the creator
    admin = _file(
        client, {"Authorization": AUTH["Authorization"]}, art("bob", 101), creator_id="bob"
    )
    assert admin.status_code == 201


def test_the_lifecycle_and_who_may_move_it(client: TestClient, keys: Keys) -> None:
    claim_id = _file(client, keys["alice"], art("alice", 1)).json()["claim_id"]
    assert client.get(f"/v1/claims/{claim_id}", headers=bearer(keys["bob"])).status_code == 404
    assert client.get("/v1/claims", headers=bearer(keys["bob"])).json()["claims"] == []
    assert _act(client, keys["bob"], claim_id, "withdraw").status_code == 404
    early = _act(client, keys["reviewer"], claim_id, "uphold")
    assert early.status_code == 409 and "dispute window is still open" in early.text
    assert _act(client, keys["alice"], claim_id, "dispute").status_code == 403
    assert _act(client, keys["platform"], claim_id, "withdraw").status_code == 403
    disputed = _act(client, keys["platform"], claim_id, "dispute")
    assert disputed.status_code == 200 and disputed.json()["status"] == "disputed"
    assert _act(client, keys["platform"], claim_id, "reject").status_code == 403
    upheld = _act(client, keys["reviewer"], claim_id, "uphold").json()
    assert upheld["status"] == "upheld"
    assert [(e["to_status"], e["actor"]) for e in upheld["events"]][1:] == [
        ("disputed", f"key:{keys['platform']['id']}"),
        ("upheld", f"key:{keys['reviewer']['id']}"),
    ]
    assert upheld["events"][-1]["reason"] == "uphold test"
    assert _act(client, keys["platform"], claim_id, "dispute").status_code == 409
    assert _act(client, keys["alice"], claim_id, "withdraw").status_code == 409
    log = client.get(f"/v1/audit?subject={claim_id}", headers=AUTH).json()["entries"]
    assert [e["action"] for e in log] == ["claim.file", "claim.disputed", "claim.upheld"]
    assert client.get("/v1/audit/verify", headers=AUTH).json()["ok"]


def test_the_same_claim_is_not_filed_twice_while_it_is_pending(
    client: TestClient, keys: Keys
) -> None:
    """A retry filed a second open claim on the same image (found by QA); now it is refused,
    naming the first, until that one is decided or withdrawn."""
    first = _file(client, keys["alice"], art("alice", 1)).json()["claim_id"]
    again = _file(client, keys["alice"], art("alice", 1))
    assert again.status_code == 409 and first in again.json()["error"]["message"]
    # found by QA: a creator could ask one platform both to share and to take down an image
    other = _file(client, keys["alice"], art("alice", 1), kind="takedown")
    assert other.status_code == 409 and other.json()["error"]["message"].endswith(
        "(revshare) is already open; withdraw it to file a takedown claim instead"
    )
    # found by QA: the same pixels saved again with a text chunk were another image to it
    import io

    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    resaved, note = io.BytesIO(), PngInfo()
    note.add_text("Comment", "saved again")
    Image.open(io.BytesIO(art("alice", 1))).save(resaved, "PNG", pnginfo=note)
    assert resaved.getvalue() != art("alice", 1)
    other = _file(client, keys["alice"], resaved.getvalue(), kind="takedown")
    assert other.status_code == 409 and first in other.json()["error"]["message"]
    assert _act(client, keys["alice"], first, "withdraw").status_code == 200
    assert _file(client, keys["alice"], art("alice", 1), kind="takedown").status_code == 201


def test_claims_are_listed_a_page_at_a_time(client: TestClient, keys: Keys) -> None:
    """Past `limit` the list stopped without a word (the page said "100 claims.")."""
    filed = [
        _file(client, keys["alice"], art("alice", seed), kind=kind).json()["claim_id"]
        for seed, kind in zip(range(1, 7), ("revshare", "takedown") * 3, strict=True)
    ]
    seen, after = [], None
    while True:
        params = {"limit": 4} | ({"after": after} if after else {})
        page = client.get("/v1/claims", headers=bearer(keys["alice"]), params=params).json()
        seen += [c["claim_id"] for c in page["claims"]]
        after = page["next_after"]
        if after is None:
            break
    assert sorted(seen) == sorted(filed) and len(seen) == 6  # each once, newest first
    bad = client.get("/v1/claims", headers=bearer(keys["bob"]), params={"after": filed[0]})
    assert bad.status_code == 422 and "after" in bad.json()["error"]["message"]


def test_racing_filings_of_one_claim_file_it_once(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    """The check before matching let concurrent retries through (found by QA: 201, 409, 201);
    the store checks again as it files, after its insert, so one of them wins."""
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from indexer.claims import ClaimConflict

    filed = _file(client, keys["alice"], art("alice", 1)).json()["claim_id"]
    store = runtime.library.claims
    first = store.get(filed)
    assert _act(client, keys["alice"], filed, "withdraw").status_code == 200
    racers = [replace(first, claim_id=f"c_race{i}", status="open", events=[]) for i in range(4)]

    def add(claim: Any) -> str:
        try:
            return store.add(claim).claim_id
        except ClaimConflict as e:
            return str(e)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(add, racers))
    won = [a for a in answers if a.startswith("c_race")]
    assert len(won) == 1, answers
    assert all(f"claim {won[0]} for this image" in a for a in answers if a not in won)


def test_a_reason_is_text_a_person_can_read(client: TestClient, keys: Keys) -> None:
    claim_id = _file(client, keys["alice"], art("alice", 2)).json()["claim_id"]
    for reason, says in (
        ("   ", "it is empty"),
        ("ok \u202e txet", "U+202E"),
        ("bell \u0007", "U+0007"),
    ):
        r = client.post(
            f"/v1/claims/{claim_id}/withdraw",
            headers=bearer(keys["alice"]),
            json={"reason": reason},
        )
        assert r.status_code == 422 and says in r.json()["error"]["message"], r.text
    fine = {"reason": "settled:\nsee the email of 3 May"}
    moved = client.post(f"/v1/claims/{claim_id}/withdraw", headers=bearer(keys["alice"]), json=fine)
    assert moved.status_code == 200 and moved.json()["events"][-1]["reason"] == fine["reason"]


def test_the_claimant_withdraws(client: TestClient, keys: Keys) -> None:
    claim_id = _file(client, keys["alice"], art("alice", 2)).json()["claim_id"]
    done = _act(client, keys["alice"], claim_id, "withdraw").json()
    assert done["status"] == "withdrawn"
    listed = client.get("/v1/claims?status=withdrawn", headers=bearer(keys["platform"])).json()
    assert [c["claim_id"] for c in listed["claims"]] == [claim_id]


def test_after_the_window_no_dispute_and_reviewers_decide(
    client: TestClient, keys: Keys, settings: Settings, runtime: Runtime
) -> None:
    settings.dispute_window_days = 0
    claim_id = _file(client, keys["alice"], art("alice", 1)).json()["claim_id"]
    late = _act(client, keys["platform"], claim_id, "dispute")
    assert late.status_code == 409 and "window closed" in late.text
    assert _act(client, keys["reviewer"], claim_id, "reject").json()["status"] == "rejected"
    rows = labelled(runtime.library.claims.find())
    assert rows and all(r["label"] is False and r["claim_id"] == claim_id for r in rows)
    assert all(r["calibrated"] <= r["upper"] <= 1 for r in rows)  # what the counts vouch for
    assert rows[0]["decided_by"] == f"key:{keys['reviewer']['id']}"


def _rewrite(packet: bytes, name: str, data: bytes | None) -> bytes:
    """The packet with one member replaced (or added, or dropped when data is None)."""
    source = zipfile.ZipFile(io.BytesIO(packet))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for member in source.namelist():
            if member != name:
                zf.writestr(member, source.read(member))
        if data is not None:
            zf.writestr(name, data)
    return out.getvalue()


def test_tampered_packets_fail_verification(
    client: TestClient, keys: Keys, runtime: Runtime, tmp_path: Any
) -> None:
    r = client.post(
        "/v1/evidence", headers=AUTH, files={"image": ("q.png", art("alice", 1), "image/png")}
    )
    packet = r.content
    assert verify_packet(packet, runtime.signer.public_key).problems == []
    result = json.loads(zipfile.ZipFile(io.BytesIO(packet)).read("result.json"))
    result["content"]["matches"][0]["score"] = 0.1
    edited = _rewrite(packet, "result.json", json.dumps(result).encode())
    assert verify_packet(edited).problems == [
        "result.json: its sha256 is not the signed one (altered)"
    ]
    assert "extra.txt: not listed" in verify_packet(_rewrite(packet, "extra.txt", b"x")).problems[0]
    assert (
        verify_packet(_rewrite(packet, "query.bin", None))
        .problems[0]
        .startswith("query.bin: listed but missing")
    )
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(packet)).read("manifest.json"))
    manifest["body"]["verdicts"]["content"]["verdict"] = "none"
    forged = _rewrite(packet, "manifest.json", json.dumps(manifest).encode())
    assert verify_packet(forged).problems == [
        "manifest: the signature does not match the signed content"
    ]
    from service.signing import Signer

    other = Signer.load_or_create(tmp_path / "other.pem").public_key
    assert "another key" in verify_packet(packet, other).problems[0]
    assert verify_packet(b"not a zip").problems[0].startswith("not an evidence packet")


def test_a_malformed_packet_is_reported_not_raised(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    r = client.post(
        "/v1/evidence", headers=AUTH, files={"image": ("q.png", art("alice", 1), "image/png")}
    )
    packet = r.content
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(packet)).read("manifest.json"))
    shapes = [
        [1],
        {"body": manifest["body"] | {"files": ["query.bin"]}, "signature": manifest["signature"]},
        {"body": manifest["body"] | {"query": "q"}, "signature": manifest["signature"]},
        manifest | {"signature": manifest["signature"] | {"public_key": 7}},
    ]
    for shape in shapes:  # each shape in the manifest: problems, not an exception
        assert verify_packet(_rewrite(packet, "manifest.json", json.dumps(shape).encode())).problems
    stored = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(packet)) as src, zipfile.ZipFile(stored, "w") as zf:
        for name in src.namelist():
            zf.writestr(name, src.read(name), zipfile.ZIP_STORED)
    damaged = bytearray(stored.getvalue())
    at = damaged.index(zipfile.ZipFile(io.BytesIO(packet)).read("query.bin")[:64]) + 40
    damaged[at] ^= 0xFF  # a byte inside a member: its CRC no longer holds
    problems = verify_packet(bytes(damaged)).problems
    assert any(p.startswith("query.bin: unreadable") for p in problems), problems


def test_a_packet_rematches_on_the_same_snapshot(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    r = client.post(
        "/v1/evidence", headers=AUTH, files={"image": ("q.png", art("alice", 1), "image/png")}
    )
    checked = verify_packet(r.content)
    query = load_image_bytes(checked.query)
    rerun = runtime.matcher.match([query], runtime.options())[0]
    assert rerun.models.index == checked.body["models"]["index"]
    assert rematch_problems(checked, rerun) == []
    shifted = MatchResult.model_validate(rerun.model_dump())
    shifted.content.matches[0].score += 0.01
    assert "content score of alice/w1.png" in rematch_problems(checked, shifted)[0]
    assert unreached(runtime.library, checked, rerun) == []
    pushed_out = MatchResult.model_validate(rerun.model_dump())  # others now rank above it
    for role in (pushed_out.content, pushed_out.style):
        role.matches = [m for m in role.matches if m.work_id != "alice/w1.png"]
    assert unreached(runtime.library, checked, pushed_out) == [
        "alice/w1.png is still registered but the re-run did not reach it"
    ]
    assert client.delete("/v1/works/alice/w1.png", headers=AUTH).status_code == 200
    assert unreached(runtime.library, checked, pushed_out) == []  # removed: expected to go
    assert removed_since(runtime.library, checked) == ["alice/w1.png"]  # and said so


def test_a_missing_packet_is_a_404_not_a_crash(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    from service.claims import evidence_path

    claim_id = _file(client, keys["alice"], art("alice", 1)).json()["claim_id"]
    evidence_path(runtime.settings.data_dir, claim_id).unlink()
    r = client.get(f"/v1/claims/{claim_id}/evidence", headers=bearer(keys["alice"]))
    assert r.status_code == 404 and r.json()["error"]["code"] == "evidence_missing"


def test_a_packets_listed_matches_are_read_not_trusted() -> None:
    """Entries of the wrong type read as None, so rematching names them instead of failing."""
    result = {
        "content": {
            "matches": [
                {"work_id": "a/1.png", "score": 0.9},
                {"work_id": "a/2.png", "score": True},
                {"work_id": 7, "score": 1},
                "not a match",
            ]
        },
        "style": {"matches": {"work_id": "a/1.png"}},
    }
    packet = PacketCheck([], {}, b"", result)
    assert listed_matches(packet, "content") == [
        ("a/1.png", 0.9),
        ("a/2.png", None),
        (None, 1),
        (None, None),
    ]
    assert listed_matches(packet, "style") == []
