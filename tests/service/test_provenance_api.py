"""Provenance over HTTP: registration records what the file says and warns (metadata naming
another creator, the same bytes or a near copy owned by someone else) instead of silently
accepting both; a match shows the query's own provenance, AI declarations included."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from tests.c2pa_signing import with_manifest
from tests.fakes import PALETTES, drawing
from tests.service.http import AUTH


def _jpeg(seed: int, artist: str | None = None, quality: int = 95) -> bytes:
    exif = Image.Exif()
    if artist:
        exif[315] = artist
    buf = io.BytesIO()
    drawing(seed, PALETTES["alice"]).save(buf, "JPEG", quality=quality, exif=exif)
    return buf.getvalue()


def _register_file(client: TestClient, data: bytes, creator: str, work_id: str) -> Any:
    r = client.post(
        "/v1/works",
        headers=AUTH,
        data={"creator_id": creator, "work_id": work_id},
        files={"image": ("w.jpg", data, "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_metadata_naming_someone_else_is_a_warning(client: TestClient) -> None:
    own = _register_file(client, _jpeg(1, "Alice"), "alice", "alice/a.jpg")
    assert own["warnings"] == [] and own["provenance"]["metadata"]["creator"] == "Alice"
    other = _register_file(client, _jpeg(2, "Bob Builder"), "alice", "alice/b.jpg")
    assert other["warnings"] == [
        "the file's metadata names 'Bob Builder' as its creator, not 'alice'"
    ]
    fetched = client.get("/v1/works/alice/b.jpg", headers=AUTH).json()
    assert fetched["warnings"] == other["warnings"]


def test_ownership_conflicts_are_warned_and_audited(client: TestClient) -> None:
    original = _jpeg(3)
    _register_file(client, original, "alice", "alice/c.jpg")
    same = _register_file(client, original, "bob", "bob/c.jpg")
    assert same["warnings"] == [
        "ownership conflict: the same bytes already registered by creator 'alice' as 'alice/c.jpg'"
    ]
    near = _register_file(client, _jpeg(3, quality=60), "carol", "carol/c.jpg")
    assert len(near["warnings"]) == 2 and "near copy (PDQ distance" in near["warnings"][0]
    log = client.get("/v1/audit?subject=carol/c.jpg", headers=AUTH).json()["entries"]
    assert log[0]["details"]["warnings"] == near["warnings"]


def test_a_match_shows_what_the_query_declares(client: TestClient) -> None:
    _register_file(client, _jpeg(4), "alice", "alice/d.jpg")
    generated = with_manifest(_jpeg(5))
    r = client.post("/v1/match", headers=AUTH, files={"image": ("g.jpg", generated, "image/jpeg")})
    provenance = r.json()["provenance"]
    assert provenance["watermarks"] == []
    assert provenance["c2pa"]["claim_generator"].startswith("test-generator")
    assert provenance["ai_generated"]["declared"] and provenance["ai_generated"]["model"]
