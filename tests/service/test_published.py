"""Published copies over HTTP and the CLI: watermark and metadata read back by independent
readers (Pillow, c2pa-python), the copy traced on match, scan-free removal handling, roles,
and bad input. Real watermark and C2PA code; fake embedders."""

from __future__ import annotations

import io
import json
import zipfile

import c2pa  # type: ignore[import-untyped]
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data as samples

from service.publish import load_or_create_secret, publish
from service.runtime import Runtime
from tests.service.http import AUTH, Keys, bearer, png

PHOTO = Image.fromarray(samples.astronaut()).resize((320, 320))
TERMS = {"licence": "CC BY-NC 4.0", "licence_url": "https://example.org/l", "credit": "Alice A."}


def register(client: TestClient, data: bytes, work_id: str, name: str = "w.png") -> None:
    creator = work_id.split("/")[0]
    r = client.post(
        "/v1/works",
        headers=AUTH,
        data={"creator_id": creator, "work_id": work_id},
        files={"image": (name, data, "application/octet-stream")},
    )
    assert r.status_code == 201, r.text


def jpeg(image: Image.Image, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def match(client: TestClient, data: bytes) -> dict:  # type: ignore[type-arg]
    r = client.post("/v1/match", headers=AUTH, files={"image": ("q", data, "image/png")})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_published_png_carries_metadata_c2pa_and_a_traced_watermark(
    client: TestClient, runtime: Runtime
) -> None:
    original = png(PHOTO)
    register(client, original, "alice/photo.png")
    assert client.put("/v1/terms/creators/alice", headers=AUTH, json=TERMS).status_code == 200
    r = client.get("/v1/published/alice/photo.png", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-styletrace-payload-id"] == "0"
    assert r.headers["x-styletrace-skipped"] == ""
    copy = r.content
    with Image.open(io.BytesIO(copy)) as opened:  # Pillow as the independent reader
        assert opened.text["Author"] == "alice"
        assert opened.text["Copyright"] == "CC BY-NC 4.0"
        xmp = opened.info["XML:com.adobe.xmp"]
        assert "<photoshop:Credit>Alice A.</photoshop:Credit>" in xmp
        assert "alice/photo.png" in xmp and "https://example.org/l" in xmp
        assert opened.getexif()[315] == "alice"
    with c2pa.Reader("image/png", io.BytesIO(copy)) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    labels = {a["label"]: a.get("data") for a in active["assertions"]}
    assert labels["com.styletrace.registration"]["work_id"] == "alice/photo.png"
    assert [i["relationship"] for i in active["ingredients"]] == ["parentOf"]
    # the original stays as registered
    work = runtime.library.catalog.get("alice/photo.png")
    assert runtime.library.blobs.get(work.sha256) == original
    audit = client.get("/v1/audit?subject=alice/photo.png", headers=AUTH).json()
    assert "work.publish" in [e["action"] for e in audit["entries"]]

    result = match(client, copy)
    mark = result["provenance"]["watermarks"][0]
    assert mark | {"confidence": 0} == {
        "kind": "styletrace",
        "work_id": "alice/photo.png",
        "creator_id": "alice",
        "payload_id": 0,
        "removed": False,
        "confidence": 0,
        "false_positive_rate": 2**-16,  # spreadTile tries one word against the checksum
        "method": "spreadTile",
        "bit_errors": mark["bit_errors"],
    }
    assert result["provenance"]["metadata"]["credit"] == "Alice A."
    assert result["provenance"]["c2pa"]["claim_generator"].startswith("styletrace")
    top = result["content"]["matches"][0]
    assert (top["work_id"], top["watermark"], top["verdict"]) == ("alice/photo.png", True, "match")
    assert result["content"]["verdict"] == "match"

    packet = client.post("/v1/evidence", headers=AUTH, files={"image": ("q", copy, "image/png")})
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(packet.content)).read("manifest.json"))
    assert manifest["body"]["watermarked_works"] == ["alice/photo.png"]


def test_terms_text_that_metadata_cannot_carry_is_refused_and_old_text_still_publishes(
    client: TestClient, runtime: Runtime
) -> None:
    """A credit with a bidi override is a 422 that names the character and changes nothing;
    terms saved before that check (a NUL in the credit) publish and match with it dropped."""
    register(client, png(PHOTO), "alice/photo.png")
    assert client.put("/v1/terms/creators/alice", headers=AUTH, json=TERMS).status_code == 200
    bad = client.put(
        "/v1/terms/creators/alice", headers=AUTH, json=TERMS | {"credit": "\u202eecilA"}
    )
    assert bad.status_code == 422 and "U+202E" in bad.json()["error"]["message"], bad.text
    work = client.put("/v1/terms/works/alice/photo.png", headers=AUTH, json={"credit": "A\x00"})
    assert work.status_code == 422 and "U+0000" in work.json()["error"]["message"], work.text
    got = client.get("/v1/terms/works/alice/photo.png", headers=AUTH).json()
    assert got["effective"]["credit"] == "Alice A." and got["overrides"]["credit"] is None

    runtime.library.catalog.set_creator_terms("alice", TERMS | {"credit": "Ali\x00ce"}, "old")
    assert client.get("/v1/terms/creators/alice", headers=AUTH).json()["terms"]["credit"] == (
        "Alice"
    )
    r = client.get("/v1/published/alice/photo.png", headers=AUTH)
    assert r.status_code == 200, r.text
    with Image.open(io.BytesIO(r.content)) as opened:
        assert "<photoshop:Credit>Alice</photoshop:Credit>" in opened.info["XML:com.adobe.xmp"]
    assert match(client, r.content)["provenance"]["metadata"]["credit"] == "Alice"


def test_copies_published_with_an_earlier_method_are_still_traced(
    client: TestClient, runtime: Runtime
) -> None:
    """A copy made while dwtDctSvd was the method is read once the catalog has issued an id
    under it, and every word read counts in the rate."""
    register(client, png(PHOTO), "alice/old.png")
    work = runtime.library.catalog.get("alice/old.png")
    secret = load_or_create_secret(runtime.settings.watermark_secret_path)
    old = publish(runtime.library, work, secret, "dwtDctSvd", runtime.c2pa, "test")
    result = match(client, old.data)
    mark = result["provenance"]["watermarks"][0]
    assert (mark["work_id"], mark["method"]) == ("alice/old.png", "dwtDctSvd")
    assert mark["false_positive_rate"] == 5 * 2**-16  # spreadTile's word, dwtDctSvd's four
    assert result["content"]["matches"][0]["calibrated"] <= 5 * 2**-16


def test_publishing_again_keeps_the_payload_id(client: TestClient) -> None:
    register(client, png(PHOTO), "alice/a.png")
    register(client, png(PHOTO.rotate(90)), "bob/b.png")
    ids = [
        client.get(f"/v1/published/{w}", headers=AUTH).headers["x-styletrace-payload-id"]
        for w in ("alice/a.png", "bob/b.png", "alice/a.png")
    ]
    assert ids == ["0", "1", "0"]


def test_jpeg_work_is_published_as_jpeg_with_exif_and_xmp(client: TestClient) -> None:
    register(client, jpeg(PHOTO), "alice/photo.jpg", "photo.jpg")
    r = client.get("/v1/published/alice%2Fphoto.jpg", headers=AUTH)
    assert r.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(r.content)) as opened:
        assert opened.getexif()[33432] == "All rights reserved by alice"
        assert "alice/photo.jpg" in opened.info["xmp"].decode()
    mark = match(client, r.content)["provenance"]["watermarks"]
    assert [(m["kind"], m["work_id"]) for m in mark] == [("styletrace", "alice/photo.jpg")]


def test_any_work_id_downloads_under_its_own_name(client: TestClient) -> None:
    """Found by QA: a work id outside Latin-1 was a 500 (headers are Latin-1), and a quote
    in it broke the header's value."""
    from urllib.parse import quote, unquote

    work_id = 'alice/日本語 "q".png'
    register(client, png(PHOTO), work_id)
    r = client.get(f"/v1/published/{quote(work_id)}", headers=AUTH)
    assert r.status_code == 200, r.text
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert disposition.count('"') == 2  # the stand-in's own quotes only
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert unquote(encoded).endswith('日本語 "q".png')


def test_a_copy_of_a_removed_work_is_reported_as_removed(client: TestClient) -> None:
    register(client, png(PHOTO), "alice/gone.png")
    copy = client.get("/v1/published/alice/gone.png", headers=AUTH).content
    assert client.delete("/v1/works/alice/gone.png", headers=AUTH).status_code == 200
    result = match(client, copy)
    assert result["provenance"]["watermarks"][0]["removed"] is True
    assert all(not m.get("watermark") for m in result["content"]["matches"])
    assert client.get("/v1/published/alice/gone.png", headers=AUTH).status_code == 404
    assert client.get("/v1/published/alice/never.png", headers=AUTH).status_code == 404


def test_small_work_says_the_watermark_was_skipped(client: TestClient) -> None:
    register(client, png(PHOTO.resize((120, 120))), "alice/tiny.png")
    r = client.get("/v1/published/alice/tiny.png", headers=AUTH)
    assert r.status_code == 200
    assert r.headers["x-styletrace-skipped"].startswith("watermark: image too small")


def test_who_may_publish(client: TestClient, keys: Keys) -> None:
    """A creator publishes their own works only; reviewers and platforms may not publish."""
    own = client.get("/v1/published/alice/w1.png", headers=bearer(keys["alice"]))
    assert own.status_code == 200
    assert client.get("/v1/published/alice/w1.png", headers=bearer(keys["bob"])).status_code == 404
    for role in ("reviewer", "platform"):
        r = client.get("/v1/published/alice/w1.png", headers=bearer(keys[role]))
        assert r.status_code == 403


def test_hostile_query_is_refused_by_the_loader_not_the_reader(client: TestClient) -> None:
    truncated = png(PHOTO)[:400]
    r = client.post("/v1/match", headers=AUTH, files={"image": ("q", truncated, "image/png")})
    assert r.status_code == 415


def test_resaving_strips_metadata_but_not_the_watermark(client: TestClient) -> None:
    """What WATERMARK.md says survives: a Pillow PNG re-save keeps the pixels (watermark)
    and drops XMP, text, EXIF and the C2PA manifest."""
    register(client, png(PHOTO), "alice/r.png")
    copy = client.get("/v1/published/alice/r.png", headers=AUTH).content
    resaved = png(Image.open(io.BytesIO(copy)))
    result = match(client, resaved)
    assert result["provenance"]["metadata"] == {}
    assert result["provenance"]["c2pa"] is None
    assert [m["work_id"] for m in result["provenance"]["watermarks"]] == ["alice/r.png"]
