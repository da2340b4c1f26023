"""Roles and tenants over HTTP: for every /v1 route, a key of each role tries to reach what it
must not (another creator's works, terms, keys and matches; admin-only actions), and what it
may do works. Policies of matched creators show in match results."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient

from tests.service.http import AUTH, Keys, art, bearer, register_as


def test_creators_register_only_as_themselves(client: TestClient, keys: Keys) -> None:
    r = register_as(client, keys["alice"], "bob", 3)
    assert r.status_code == 403 and "creator 'alice' only" in r.json()["error"]["message"]
    for role in ("platform", "reviewer"):
        assert register_as(client, keys[role], "bob", 4).status_code == 403


def test_creators_register_work_ids_under_their_own_name_only(
    client: TestClient, keys: Keys
) -> None:
    """Alice's key may not take (or, with bob's bytes, read) a work id in bob's name: bob's
    own registration under it then still works, and existence does not leak."""
    for work_id in ("bob/sunset.png", "sunset.png", "alice2/x.png", "bob/w101.png"):
        r = client.post(
            "/v1/works",
            headers=bearer(keys["alice"]),
            data={"creator_id": "alice", "work_id": work_id},
            files={"image": ("w.png", art("bob", 101), "image/png")},
        )
        assert r.status_code == 403, (work_id, r.text)
        assert "under 'alice/' only" in r.json()["error"]["message"]
    assert register_as(client, keys["bob"], "bob", 7).status_code == 201
    assert register_as(client, keys["alice"], "alice", 7).status_code == 201
    admin = client.post(  # an admin key may register any id, as the CLI's manifests do
        "/v1/works",
        headers=AUTH,
        data={"creator_id": "alice", "work_id": "imports/2026/a.png"},
        files={"image": ("w.png", art("alice", 8), "image/png")},
    )
    assert admin.status_code == 201, admin.text


def test_a_creator_never_sees_another_creators_works(client: TestClient, keys: Keys) -> None:
    alice = bearer(keys["alice"])
    listed = client.get("/v1/works", headers=alice).json()["works"]
    assert {w["creator_id"] for w in listed} == {"alice"}
    assert client.get("/v1/works?creator_id=bob", headers=alice).status_code == 403
    after_bob = client.get("/v1/works?after=bob/w101.png", headers=alice)
    after_none = client.get("/v1/works?after=bob/nothing.png", headers=alice)
    assert after_bob.status_code == after_none.status_code == 422  # existence does not leak
    assert (
        after_bob.json()["error"]["message"].replace("w101", "nothing")
        == (after_none.json()["error"]["message"])
    )
    hidden = client.get("/v1/works/bob/w101.png", headers=alice)
    missing = client.get("/v1/works/bob/nothing.png", headers=alice)
    assert hidden.status_code == missing.status_code == 404  # existence does not leak
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"]
    assert client.delete("/v1/works/bob/w101.png", headers=alice).status_code == 404
    assert client.get("/v1/works/bob/w101.png", headers=AUTH).status_code == 200  # still there
    assert client.get("/v1/works/alice/w1.png", headers=alice).status_code == 200


def test_platforms_screen_and_reviewers_read_but_neither_changes_works(
    client: TestClient, keys: Keys
) -> None:
    for role in ("platform", "reviewer"):
        assert (
            client.delete("/v1/works/bob/w101.png", headers=bearer(keys[role])).status_code == 403
        )
        assert (
            client.put(
                "/v1/terms/creators/bob", headers=bearer(keys[role]), json={"policy": "takedown"}
            ).status_code
            == 403
        )
    assert client.get("/v1/works", headers=bearer(keys["platform"])).status_code == 403
    assert len(client.get("/v1/works", headers=bearer(keys["reviewer"])).json()["works"]) == 4
    assert client.get("/v1/terms/creators/bob", headers=bearer(keys["platform"])).status_code == 200


def test_terms_belong_to_their_creator(client: TestClient, keys: Keys) -> None:
    alice = bearer(keys["alice"])
    ok = client.put(
        "/v1/terms/creators/alice",
        headers=alice,
        json={"policy": "revshare", "revshare_rate": 0.25, "credit": "Alice"},
    )
    assert ok.status_code == 200 and ok.json()["terms"]["revshare_rate"] == 0.25
    assert client.get("/v1/terms/creators/bob", headers=alice).status_code == 404
    assert (
        client.put("/v1/terms/creators/bob", headers=alice, json={"policy": "track"}).status_code
        == 404
    )
    assert client.get("/v1/terms/works/bob/w101.png", headers=alice).status_code == 404
    assert (
        client.put(
            "/v1/terms/works/bob/w101.png", headers=alice, json={"policy": "takedown"}
        ).status_code
        == 404
    )
    work = client.put("/v1/terms/works/alice/w1.png", headers=alice, json={"policy": "takedown"})
    assert work.json()["effective"]["policy"] == "takedown"
    assert work.json()["effective"]["credit"] == "Alice"
    bad = client.put("/v1/terms/creators/alice", headers=alice, json={"policy": "revshare"})
    assert bad.status_code == 422 and "revshare_rate" in bad.json()["error"]["message"]


def test_keys_admin_creates_creators_see_their_own(client: TestClient, keys: Keys) -> None:
    alice, bob = bearer(keys["alice"]), bearer(keys["bob"])
    for role in ("alice", "platform", "reviewer"):
        r = client.post("/v1/keys", headers=bearer(keys[role]), json={"role": "admin"})
        assert r.status_code == 403
    listed = client.get("/v1/keys", headers=alice).json()["keys"]
    assert [k["key_id"] for k in listed] == [keys["alice"]["id"]]
    assert "key" not in listed[0]
    assert client.delete(f"/v1/keys/{keys['bob']['id']}", headers=alice).status_code == 404
    assert client.get("/v1/works", headers=bob).status_code == 200  # bob's key still works
    platform = client.get("/v1/keys", headers=bearer(keys["platform"])).json()["keys"]
    assert [k["key_id"] for k in platform] == [keys["platform"]["id"]]
    assert len(client.get("/v1/keys", headers=AUTH).json()["keys"]) == 4


def test_a_revoked_key_stops_at_once(client: TestClient, keys: Keys) -> None:
    r = client.delete(f"/v1/keys/{keys['bob']['id']}", headers=bearer(keys["bob"]))
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert client.get("/v1/works", headers=bearer(keys["bob"])).status_code == 401


def test_audit_is_for_admins_and_reviewers(client: TestClient, keys: Keys) -> None:
    for role in ("alice", "platform"):
        assert client.get("/v1/audit", headers=bearer(keys[role])).status_code == 403
        assert client.get("/v1/audit/verify", headers=bearer(keys[role])).status_code == 403
    entries = client.get("/v1/audit?limit=1000", headers=bearer(keys["reviewer"])).json()["entries"]
    registered = [e for e in entries if e["action"] == "work.register"]
    assert {e["actor"] for e in registered} == {
        f"key:{keys['alice']['id']}",
        f"key:{keys['bob']['id']}",
    }
    assert client.get("/v1/audit/verify", headers=AUTH).json()["ok"] is True


def _match(client: TestClient, key: dict[str, str], data: bytes) -> dict[str, Any]:
    r = client.post("/v1/match", headers=bearer(key), files={"image": ("q.png", data, "image/png")})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_match_shows_policies_and_creators_see_only_themselves(
    client: TestClient, keys: Keys
) -> None:
    client.put("/v1/terms/creators/alice", headers=AUTH, json={"policy": "takedown"})
    copy = art("alice", 1)
    screened = _match(client, keys["platform"], copy)
    assert screened["content"]["verdict"] == "match"
    assert screened["content"]["matches"][0]["work_id"] == "alice/w1.png"
    assert screened["policy"]["resolved"] == "takedown"
    assert "takedown of alice" in screened["policy"]["reason"]
    as_bob = _match(client, keys["bob"], copy)
    seen = {m["creator_id"] for m in as_bob["content"]["matches"] + as_bob["style"]["matches"]}
    seen |= {c["creator_id"] for c in as_bob["style"]["creators"]}
    seen |= {a["creator_id"] for a in as_bob["policy"]["applies"]}
    assert seen <= {"bob"} and as_bob["content"]["verdict"] != "match"
    assert _match(client, keys["alice"], copy)["content"]["verdict"] == "match"


def test_other_creators_near_copies_cannot_crowd_a_creators_own_match_out(
    client: TestClient, keys: Keys
) -> None:
    """Found by QA: a creator's match and claim ranked the whole catalog, then kept that
    creator's works; twelve registered copies of the query by someone else filled every
    place and alice's own work, a match, came back `none` and her claim was refused."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    query = Image.open(io.BytesIO(art("alice", 1))).convert("RGB")
    buf = io.BytesIO()
    query.save(buf, format="JPEG", quality=70)
    suspect = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    for n in range(12):  # the suspect itself, as twelve distinct files
        info, out = PngInfo(), io.BytesIO()
        info.add_text("n", str(n))
        suspect.save(out, format="PNG", pnginfo=info)
        r = client.post(
            "/v1/works",
            headers=AUTH,
            data={"creator_id": "mallory", "work_id": f"mallory/c{n}.png"},
            files={"image": ("c.png", out.getvalue(), "image/png")},
        )
        assert r.status_code == 201, r.text
    data = buf.getvalue()
    mine = _match(client, keys["alice"], data)["content"]
    assert mine["matches"][0]["work_id"] == "alice/w1.png"
    assert mine["verdict"] in ("match", "possible")
    claim = client.post(
        "/v1/claims",
        headers=bearer(keys["alice"]),
        data={"kind": "takedown"},
        files={"image": ("q.jpg", data, "image/jpeg")},
    )
    assert claim.status_code == 201, claim.text
