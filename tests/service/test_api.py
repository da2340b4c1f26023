"""The HTTP API end to end on the fake runtime: auth, registration, matching, removal, and bad
input answered with the right 4xx and a message a person understands (never a 5xx)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.api import app as app_module
from service.api.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.service.http import AUTH, Answer, art, checked_client

CREATORS = ("alice", "bob", "carol")


@pytest.fixture
def gallery(client: TestClient) -> dict[str, bytes]:
    """3 creators x 3 drawings registered over HTTP: work id -> bytes."""
    works = {}
    for c, creator in enumerate(CREATORS):
        for i in range(3):
            data = art(creator, 100 * c + i)
            r = register(client, data, creator, f"{creator}/d{i}.png")
            assert r.status_code == 201, r.text
            works[f"{creator}/d{i}.png"] = data
    return works


def register(
    client: TestClient,
    data: bytes,
    creator_id: str,
    work_id: str | None = None,
    filename: str = "upload.png",
) -> Answer:
    form = {"creator_id": creator_id} | ({"work_id": work_id} if work_id else {})
    return client.post(
        "/v1/works", headers=AUTH, data=form, files={"image": (filename, data, "image/png")}
    )


def match(client: TestClient, data: bytes, **form: Any) -> Answer:
    return client.post(
        "/v1/match", headers=AUTH, data=form, files={"image": ("q.png", data, "image/png")}
    )


def error_of(r: Answer, status: int) -> tuple[str, str]:
    """(code, message) of a JSON error answer with this status."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]["code"], body["error"]["message"]


def test_healthz_and_readyz_need_no_auth(client: TestClient, gallery: dict[str, bytes]) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["works"] == 9 and body["index"].startswith("g")
    assert set(body["models"]) >= {"content", "style"}


def test_readyz_counts_what_a_cli_beside_the_server_removed(
    client: TestClient, gallery: dict[str, bytes], runtime: Runtime, settings: Settings
) -> None:
    """It showed the count from before until the next match picked the change up."""
    from service.runtime import open_library
    from tests.fakes import HistogramEmbedder, PixelEmbedder

    beside = open_library(settings, PixelEmbedder(), HistogramEmbedder())  # another process
    beside.remove(runtime.library.catalog.works(limit=1)[0].work_id, "cli")
    assert client.get("/readyz").json()["works"] == 8


def test_the_public_signing_key_checks_a_packet_the_service_signed(client: TestClient) -> None:
    """What `verify --public-key` insists on: served with no auth, and the key that signs."""
    from service.evidence import verify_packet

    pem = client.get("/signing-key.pem")
    assert pem.status_code == 200 and pem.text.startswith("-----BEGIN PUBLIC KEY-----")
    packet = client.post(
        "/v1/evidence", headers=AUTH, files={"image": ("q.png", art("alice", 3), "image/png")}
    )
    assert verify_packet(packet.content, pem.text).problems == []


def test_docs_describe_the_api(client: TestClient) -> None:
    """/docs loads its scripts from this server (found by QA: from a CDN, so it was blank
    offline); tests/web/test_check_page.py renders it in a browser with no network."""
    html = client.get("/docs")
    assert html.status_code == 200 and "cdn" not in html.text.lower(), html.text
    scripts = re.findall(r'src="([^"]+)"', html.text)
    assert scripts and all(client.get(s).status_code == 200 for s in scripts), scripts
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/works", "/v1/works/{work_id}", "/v1/match"} <= set(paths)


def test_lifespan_builds_the_runtime_and_saves_the_index(
    settings: Settings, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "build_runtime", lambda _settings: runtime)
    with checked_client(create_app(settings)) as client:
        assert client.get("/readyz").json()["works"] == 0
        assert register(client, art("alice", 1), "alice").status_code == 201
    assert any((settings.data_dir / "index").iterdir())


def test_decoding_and_models_run_off_the_event_loop(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[bool] = []

    def on_worker_thread(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            threads.append(not in_event_loop())
            return fn(*args)

        return wrapper

    monkeypatch.setattr(runtime.matcher, "match", on_worker_thread(runtime.matcher.match))
    monkeypatch.setattr(runtime.library, "register", on_worker_thread(runtime.library.register))
    assert register(client, art("bob", 1), "bob").status_code == 201
    assert match(client, art("bob", 1)).status_code == 200
    assert threads == [True, True]


def in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_readyz_is_503_until_the_runtime_is_loaded(settings: Settings) -> None:
    client = TestClient(create_app(settings))  # no lifespan: nothing loaded
    code, message = error_of(client.get("/readyz"), 503)
    assert code == "not_ready" and "loading" in message
    assert client.get("/healthz").status_code == 200


def test_v1_needs_the_admin_key(client: TestClient) -> None:
    code, message = error_of(client.post("/v1/match", files={"image": ("q.png", b"x")}), 401)
    assert code == "unauthorized" and "Authorization: Bearer" in message
    wrong = client.get("/v1/works", headers={"Authorization": "Bearer nope"})
    assert error_of(wrong, 401)[1] == "invalid or revoked API key"
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert error_of(client.get("/v1/works", headers={"Authorization": ADMIN_KEY}), 401)


def test_empty_admin_key_disables_the_bootstrap_key(settings: Settings, runtime: Runtime) -> None:
    settings.admin_key = ""
    with checked_client(create_app(settings, runtime)) as client:
        for header in ("Bearer ", "Bearer", f"Bearer {ADMIN_KEY}"):
            assert error_of(client.get("/v1/works", headers={"Authorization": header}), 401)


def test_register_answers_201_with_the_work(client: TestClient) -> None:
    data = art("alice", 1)
    r = register(client, data, "alice", "alice/sunset.png")
    assert r.status_code == 201
    work = r.json()
    assert work["work_id"] == "alice/sunset.png" and work["creator_id"] == "alice"
    assert work["created"] is True and work["sha256"] == hashlib.sha256(data).hexdigest()
    assert (work["width"], work["height"], work["size_bytes"]) == (96, 96, len(data))


def test_reregistering_identical_bytes_is_idempotent(
    client: TestClient, gallery: dict[str, bytes]
) -> None:
    r = register(client, gallery["bob/d1.png"], "bob", "bob/d1.png")
    assert r.status_code == 200
    assert r.json()["created"] is False and r.json()["work_id"] == "bob/d1.png"
    assert client.get("/readyz").json()["works"] == 9


def test_same_id_with_other_bytes_is_a_conflict(
    client: TestClient, gallery: dict[str, bytes]
) -> None:
    code, message = error_of(register(client, art("bob", 77), "bob", "bob/d1.png"), 409)
    assert code == "work_conflict" and "bob/d1.png" in message


def test_default_work_id_comes_from_the_file_name_or_the_hash(client: TestClient) -> None:
    named = register(client, art("carol", 5), "carol", filename="../My Sunset!.png")
    assert named.json()["work_id"] == "carol/My_Sunset_.png"
    data = art("carol", 6)
    anonymous = register(client, data, "carol", filename="???")
    assert anonymous.json()["work_id"] == f"carol/{hashlib.sha256(data).hexdigest()[:16]}.png"


def test_exact_copy_is_a_content_match(client: TestClient, gallery: dict[str, bytes]) -> None:
    r = match(client, gallery["carol/d2.png"])
    assert r.status_code == 200
    result = r.json()
    assert set(result["query"]) >= {"sha256", "width", "height"}
    assert result["query"]["sha256"] == hashlib.sha256(gallery["carol/d2.png"]).hexdigest()
    assert set(result["style"]) >= {"verdict", "score", "calibrated", "creators", "matches"}
    assert set(result["content"]) >= {"verdict", "score", "calibrated", "matches"}
    assert set(result["models"]) >= {"style", "content", "index"}
    assert result["content"]["verdict"] == "match"
    assert result["content"]["matches"][0]["work_id"] == "carol/d2.png"


def test_a_creator_leaving_revshare_leaves_a_revshare_work_readable(
    client: TestClient, gallery: dict[str, bytes]
) -> None:
    """Found by QA: a work put on revshare without a rate, then its creator put on takedown,
    and every match of that work was a 500, and every scan meeting it failed."""
    creator, work = "/v1/terms/creators/carol", "/v1/terms/works/carol/d2.png"
    revshare = {"policy": "revshare", "revshare_rate": 0.3}
    assert client.put(creator, headers=AUTH, json=revshare).status_code == 200
    put = client.put(work, headers=AUTH, json={"policy": "revshare"})
    assert put.status_code == 200 and put.json()["overrides"]["revshare_rate"] == 0.3
    assert client.put(creator, headers=AUTH, json={"policy": "takedown"}).status_code == 200
    assert client.get(work, headers=AUTH).json()["effective"]["revshare_rate"] == 0.3
    answer = match(client, gallery["carol/d2.png"])
    assert answer.status_code == 200, answer.text
    applied = answer.json()["policy"]["applies"]
    assert {"work_id": "carol/d2.png", "policy": "revshare"}.items() <= applied[0].items()
    refused = client.put("/v1/terms/works/carol/d1.png", headers=AUTH, json={"policy": "revshare"})
    code, message = error_of(refused, 422)
    assert code == "invalid_terms" and "the creator's terms have none to keep" in message
    # found by QA: a rate on a work whose terms are not revshare was kept and never applied
    for overrides in ({"revshare_rate": 0.2}, {"policy": "track", "revshare_rate": 0.2}):
        refused = client.put("/v1/terms/works/carol/d1.png", headers=AUTH, json=overrides)
        assert "revshare_rate only applies to policy 'revshare'" in error_of(refused, 422)[1]


def test_new_drawing_in_a_registered_palette_matches_that_style(
    client: TestClient, gallery: dict[str, bytes]
) -> None:
    style = match(client, art("bob", 999)).json()["style"]
    assert style["creators"][0]["creator_id"] == "bob"
    assert style["verdict"] in ("match", "possible")


def test_top_k_bounds_the_lists(client: TestClient, gallery: dict[str, bytes]) -> None:
    one = match(client, gallery["alice/d0.png"], top_k="1").json()
    assert len(one["content"]["matches"]) == 1 and len(one["style"]["matches"]) == 1
    many = match(client, gallery["alice/d0.png"], top_k="6").json()
    assert len(many["style"]["matches"]) == 6


def test_work_ids_with_slashes_work_raw_and_encoded(
    client: TestClient, gallery: dict[str, bytes]
) -> None:
    raw = client.get("/v1/works/alice/d1.png", headers=AUTH)
    encoded = client.get("/v1/works/alice%2Fd1.png", headers=AUTH)
    assert raw.status_code == encoded.status_code == 200
    assert raw.json() == encoded.json()
    assert raw.json()["work_id"] == "alice/d1.png"
    assert b"%2F" in encoded.request.url.raw_path


def test_a_work_id_typed_composed_or_decomposed_is_one_id(client: TestClient) -> None:
    """Found by QA: 'café' sent composed and decomposed registered as two works that print
    alike; one id now, found by either spelling."""
    composed, decomposed = "alice/caf\u00e9.png", "alice/cafe\u0301.png"
    made = register(client, art("alice", 31), "alice", decomposed)
    assert made.status_code == 201 and made.json()["work_id"] == composed
    again = register(client, art("alice", 31), "alice", composed)
    assert again.status_code == 200 and again.json()["work_id"] == composed
    other = register(client, art("alice", 32), "alice", decomposed)
    assert error_of(other, 409)[0] == "work_conflict"
    for spelling in (composed, decomposed):
        assert client.get(f"/v1/works/{spelling}", headers=AUTH).json()["work_id"] == composed


def test_list_works_filters_and_pages(client: TestClient, gallery: dict[str, bytes]) -> None:
    bob = client.get("/v1/works", headers=AUTH, params={"creator_id": "bob"}).json()
    assert [w["work_id"] for w in bob["works"]] == ["bob/d0.png", "bob/d1.png", "bob/d2.png"]
    page = client.get("/v1/works", headers=AUTH, params={"limit": 2, "offset": 8}).json()
    assert [w["work_id"] for w in page["works"]] == ["carol/d2.png"]
    assert page["next_after"] is None  # the last page


def test_walking_works_by_cursor_skips_nothing_when_works_go_meanwhile(
    client: TestClient, gallery: dict[str, bytes]
) -> None:
    """An offset walk skips a work when an earlier one is removed between pages; `after`
    (each page's `next_after`) does not, even when the page's last work is the one removed."""
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        page = client.get("/v1/works", headers=AUTH, params=params).json()
        seen += [w["work_id"] for w in page["works"]]
        if len(seen) == 2:
            assert client.delete(f"/v1/works/{seen[-1]}", headers=AUTH).status_code == 200
        if page["next_after"] is None:
            break
        params["after"] = page["next_after"]
    assert seen == list(gallery)
    for params in ({"after": "alice/none.png"}, {"after": "alice/d0.png", "offset": 1}):
        code, message = error_of(client.get("/v1/works", headers=AUTH, params=params), 422)
        assert code == "invalid_request" and ("to list after" in message or "not both" in message)


def test_removed_work_stops_matching_at_once(client: TestClient, gallery: dict[str, bytes]) -> None:
    r = client.delete("/v1/works/bob%2Fd0.png", headers=AUTH)
    assert r.status_code == 200 and r.json()["removed"] == "bob/d0.png"
    content = match(client, gallery["bob/d0.png"]).json()["content"]
    assert "bob/d0.png" not in [m["work_id"] for m in content["matches"]]
    assert error_of(client.get("/v1/works/bob/d0.png", headers=AUTH), 404)[0] == "work_not_found"
    code, message = error_of(client.delete("/v1/works/bob/d0.png", headers=AUTH), 404)
    assert code == "work_not_found" and "bob/d0.png" in message


@pytest.mark.parametrize("data", [b"hello", art("alice", 3)[:200]], ids=["text", "truncated"])
def test_bytes_that_are_not_an_image_are_415(client: TestClient, data: bytes) -> None:
    assert error_of(match(client, data), 415)[0] == "unsupported_image"
    assert error_of(register(client, data, "alice"), 415)[0] == "unsupported_image"


def test_json_bodies_are_described_as_json(client: TestClient) -> None:
    """Found by QA: a JSON route's errors said "form field", and broken JSON named its
    character offset as a field ("form field '10': JSON decode error")."""
    url, headers = "/v1/terms/creators/alice", AUTH | {"content-type": "application/json"}
    code, message = error_of(client.put(url, headers=headers, content=b'{"policy": }'), 422)
    assert code == "invalid_request"
    assert message.startswith("the request body is not valid JSON at character 11")
    message = error_of(client.put(url, headers=AUTH, json={"policy": "sell"}), 422)[1]
    assert message.startswith("JSON field 'policy'"), message
    message = error_of(register(client, art("alice", 5), ""), 422)[1]  # still a form
    assert "form field 'creator_id'" in message, message
    posted = client.put(url, headers=AUTH, data={"policy": "track"})  # a form to a JSON route
    message = error_of(posted, 422)[1]
    assert message.startswith("the request body must be a JSON object, sent with"), message
    rule = error_of(client.put(url, headers=AUTH, json={"policy": "revshare"}), 422)[1]
    assert rule == "the request body: policy 'revshare' needs a revshare_rate between 0 and 1"
    latin1 = '{"policy": "track", "notes": "café"}'.encode("latin-1")  # was a bare 400
    code, message = error_of(client.put(url, headers=headers, content=latin1), 422)
    assert code == "invalid_request", message
    assert message.startswith("the request body is not valid JSON at byte 33: 0xe9 is not UTF-8")


def test_a_flat_colour_is_no_work_to_register(client: TestClient) -> None:
    """Found by QA: a registered 1x1 black PNG was a content match for every black upload.
    One flat colour (give or take JPEG's noise) is refused; one dot on it is a drawing."""
    from PIL import Image, ImageDraw

    def encoded(image: Image.Image, fmt: str) -> bytes:
        buf = io.BytesIO()
        image.save(buf, format=fmt, quality=30) if fmt == "JPEG" else image.save(buf, format=fmt)
        return buf.getvalue()

    for image, fmt in (
        (Image.new("RGB", (1, 1)), "PNG"),
        (Image.new("RGB", (300, 200), (30, 120, 200)), "JPEG"),
        (Image.new("RGBA", (64, 64), (0, 0, 0, 0)), "PNG"),
    ):
        code, message = error_of(register(client, encoded(image, fmt), "alice"), 422)
        assert code == "featureless_image" and "one flat colour" in message
    dot = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(dot).ellipse((30, 30, 34, 34), fill="black")
    assert register(client, encoded(dot, "PNG"), "alice").status_code == 201
    assert match(client, encoded(Image.new("RGB", (64, 64)), "PNG")).status_code == 200


def test_images_too_small_or_thin_for_pdq_are_no_copies_of_one_another(
    client: TestClient,
) -> None:
    """Found by QA: PDQ gives every image under 8 px a side (once scaled to 512 px: a
    20000x20 strip too) the same all-zero hash, so a registered 4x4 icon was a content match
    at distance 0 for any other such image, down to a takedown claim."""
    from PIL import Image

    def noise(seed: int, width: int, height: int) -> bytes:
        pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        return buf.getvalue()

    icon = noise(1, 4, 4)
    registered = register(client, icon, "tiny", "tiny/icon.png")
    assert registered.status_code == 201 and registered.json()["warnings"] == []
    thin = register(client, noise(2, 20000, 20), "other", "other/strip.png")
    assert thin.status_code == 201 and thin.json()["warnings"] == []  # no "near copy" of it
    for other in (noise(3, 4, 4), noise(4, 2000, 6), noise(5, 1, 1)):
        content = match(client, other).json()["content"]
        assert content["verdict"] == "none", content["matches"][:1]
        assert all(m["pdq_distance"] is None for m in content["matches"])
    same = match(client, icon).json()["content"]  # its own bytes still find it, by embedding
    assert same["matches"][0]["work_id"] == "tiny/icon.png"


def test_on_a_tie_the_earliest_registered_work_comes_first(client: TestClient) -> None:
    """Found by QA: the same bytes registered later by others were listed before the
    original, so a claim form, a scan row and a CSV named the copier."""
    data = art("alice", 77)
    assert register(client, data, "alice", "alice/original.png").status_code == 201
    for copier in ("mallory", "trent", "eve"):
        later = register(client, data, copier, f"{copier}/copy.png")
        assert "ownership conflict" in later.json()["warnings"][0]
    rows = match(client, data).json()["content"]["matches"]
    assert rows[0]["work_id"] == "alice/original.png", [r["work_id"] for r in rows]
    assert [r["work_id"] for r in rows[1:4]] == [
        "mallory/copy.png",
        "trent/copy.png",
        "eve/copy.png",
    ]
    # found by QA: the conflict was a registration warning only; a match (and so a claim and
    # its evidence) now says so of each work it lists
    assert rows[0]["warnings"] == []
    assert rows[1]["warnings"] == [
        "ownership conflict: the same bytes already registered by creator 'alice' as "
        "'alice/original.png'"
    ]


def test_a_form_field_sent_twice_is_refused(client: TestClient, gallery: dict[str, bytes]) -> None:
    """Found by QA: a second image (or top_k) silently replaced the first."""
    two = [("image", ("a.png", gallery["alice/d0.png"], "image/png"))] * 2
    code, message = error_of(client.post("/v1/match", headers=AUTH, files=two), 422)
    assert code == "invalid_request"
    assert message == "form field 'image' was sent 2 times; send each field once"
    one = [("image", ("a.png", gallery["alice/d0.png"], "image/png"))]
    top_k = [("top_k", (None, "2")), ("top_k", (None, "3"))]
    posted = client.post("/v1/match", headers=AUTH, files=one + top_k)  # type: ignore[operator]
    assert "form field 'top_k' was sent 2 times" in error_of(posted, 422)[1]
    assert match(client, gallery["alice/d0.png"], top_k="2").status_code == 200


def test_the_once_check_comes_after_the_key_and_on_form_routes_only(
    client: TestClient, gallery: dict[str, bytes]
) -> None:
    """Found by QA: it ran on every route before the key check, so a keyless call with a
    repeated field was a 422 and /healthz with a broken form body a 400."""
    two = [("image", ("a.png", gallery["alice/d0.png"], "image/png"))] * 2
    assert error_of(client.post("/v1/match", files=two), 401)[0] == "unauthorized"
    broken = {"content-type": "multipart/form-data; boundary=x"}
    assert (
        client.request("GET", "/healthz", content=b"--x\r\nnope", headers=broken).status_code == 200
    )


def test_every_route_that_takes_a_form_refuses_a_field_sent_twice(client: TestClient) -> None:
    """A route added with a form and without the check would take the last of two values."""
    forms = ("multipart/form-data", "application/x-www-form-urlencoded")
    routes = [
        (method, re.sub(r"\{[^}]+\}", "x", path))
        for path, item in client.get("/openapi.json").json()["paths"].items()
        for method, op in item.items()
        if set(op.get("requestBody", {}).get("content", {})) & set(forms)
    ]
    assert len(routes) >= 5
    for method, path in routes:
        twice = client.request(method, path, headers=AUTH, files=[("x", (None, "1"))] * 2)
        assert "form field 'x' was sent 2 times" in error_of(twice, 422)[1], path


def test_a_form_field_sent_twice_is_refused_however_the_type_is_written(
    client: TestClient,
) -> None:
    """Found by QA: 'Multipart/Form-Data' (media types are case-insensitive) or a leading
    space skipped the check, and the last creator_id won."""
    body = (
        b"".join(
            b'--b\r\nContent-Disposition: form-data; name="creator_id"\r\n\r\n' + who + b"\r\n"
            for who in (b"alice", b"bob")
        )
        + b"--b--\r\n"
    )
    for kind in ("Multipart/Form-Data; boundary=b", " multipart/form-data; boundary=b"):
        posted = client.post("/v1/works", headers=AUTH | {"content-type": kind}, content=body)
        assert "form field 'creator_id' was sent 2 times" in error_of(posted, 422)[1], kind


def test_an_uploaded_file_name_gives_one_work_id_composed_or_not(client: TestClient) -> None:
    """Found by QA: a decomposed name (as macOS sends it) lost its accents to '_'."""

    def upload(name: str, seed: int) -> Answer:
        image = {"image": (name, art("alice", seed), "image/png")}
        return client.post("/v1/works", headers=AUTH, data={"creator_id": "alice"}, files=image)

    made = upload("re\u0301sume\u0301.png", 41)
    assert made.status_code == 201 and made.json()["work_id"] == "alice/r\u00e9sum\u00e9.png"
    assert error_of(upload("r\u00e9sum\u00e9.png", 42), 409)[0] == "work_conflict"  # one id


def test_a_key_label_is_one_plain_line(client: TestClient) -> None:
    """Found by QA: a label took a bidi override and line breaks (reasons and terms did not),
    so one key's listing could pass for another's."""
    for label, says in (
        ("a\u202eb", "U+202E"),
        ("first\nsecond", "U+000A"),
        ("x" * 201, "at most 200 characters"),
        ("first\u2028second", "U+2028"),  # found by QA: Unicode's own line break passed
        ("ad\u200bmin", "U+200B"),  # a zero-width space: prints as "admin"
        ("\u200fadmin", "U+200F"),  # a right-to-left mark
        ("   ", "prints as nothing"),
        ("\u3164", "prints as nothing"),  # a Hangul filler (QA)
        ("\u200d", "prints as nothing"),  # a joiner alone (QA)
        ("alice\U000e0062\U000e006f\U000e0062", "U+E0062"),  # tags that print as nothing
    ):
        posted = client.post("/v1/keys", headers=AUTH, json={"role": "reviewer", "label": label})
        code, message = error_of(posted, 422)
        assert code == "invalid_request" and message.startswith("JSON field 'label': "), message
        assert says in message and "Value error" not in message
    made = client.post("/v1/keys", headers=AUTH, json={"role": "reviewer", "label": "Zoë's CI"})
    assert made.status_code == 201 and made.json()["label"] == "Zoë's CI"


def test_empty_file_is_refused(client: TestClient) -> None:
    assert match(client, b"").status_code in (400, 415)


@pytest.mark.parametrize("size", [3000, 300_000], ids=["over-limit", "over-content-length"])
def test_oversized_upload_is_413(settings: Settings, runtime: Runtime, size: int) -> None:
    settings.max_upload_bytes = 2000
    with checked_client(create_app(settings, runtime)) as client:
        code, message = error_of(match(client, b"\0" * size), 413)
        assert code == "upload_too_large" and "2000 bytes" in message
        assert error_of(register(client, b"\0" * size, "alice"), 413)[0] == "upload_too_large"
        assert client.get("/readyz").json()["works"] == 0


def test_streamed_upload_without_length_is_cut_off(settings: Settings, runtime: Runtime) -> None:
    settings.max_upload_bytes = 2000
    head = (
        b'--b\r\nContent-Disposition: form-data; name="image"; filename="q.png"\r\n'
        b"Content-Type: image/png\r\n\r\n"
    )

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(100):
            yield b"\0" * 10_000
        yield b"\r\n--b--\r\n"

    headers = AUTH | {"Content-Type": "multipart/form-data; boundary=b"}
    with checked_client(create_app(settings, runtime)) as client:
        r = client.post("/v1/match", headers=headers, content=body())
        assert "content-length" not in r.request.headers
        assert error_of(r, 413)[0] == "upload_too_large"


def test_missing_image_field_is_422(client: TestClient) -> None:
    r = client.post("/v1/match", headers=AUTH, data={"top_k": "3"})
    assert error_of(r, 422)[1] == "form field 'image' (a file) is required"
    as_text = client.post("/v1/works", headers=AUTH, data={"creator_id": "a", "image": "x"})
    assert error_of(as_text, 422)[1] == "form field 'image' (a file) is required"


@pytest.mark.parametrize("top_k", ["0", "abc", "10000"])
def test_bad_top_k_is_422(client: TestClient, top_k: str) -> None:
    code, message = error_of(match(client, art("alice", 1), top_k=top_k), 422)
    assert code == "invalid_request" and "'top_k'" in message


def test_bad_creator_id_is_422(client: TestClient) -> None:
    code, message = error_of(register(client, art("alice", 1), "../x"), 422)
    assert code == "invalid_id" and "creator_id" in message


def test_missing_creator_id_is_422(client: TestClient) -> None:
    r = client.post("/v1/works", headers=AUTH, files={"image": ("a.png", art("alice", 1))})
    assert error_of(r, 422)[1] == "form field 'creator_id' is required"


def test_unknown_route_and_wrong_method_answer_json(client: TestClient) -> None:
    assert error_of(client.get("/v1/nope", headers=AUTH), 404)[0] == "not_found"
    assert error_of(client.get("/nope"), 404)[0] == "not_found"
    code, message = error_of(client.put("/v1/match", headers=AUTH), 405)
    assert code == "method_not_allowed" and "PUT" in message


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Prometheus text as {(sample name, labels): value}."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_requests_by_route(client: TestClient, gallery: dict[str, bytes]) -> None:
    match(client, gallery["alice/d0.png"])
    client.get("/v1/works/alice/d0.png", headers=AUTH)
    client.get("/no/such/page")
    seen = samples(client.get("/metrics").text)

    def count(route: str, method: str, status: str) -> float:
        labels = frozenset({"route": route, "method": method, "status": status}.items())
        return seen.get(("styletrace_http_requests_total", labels), 0.0)

    assert count("/v1/match", "POST", "200") == 1
    assert count("/v1/works", "POST", "201") == 9
    assert count("/v1/works/{work_id:path}", "GET", "200") == 1
    assert count("<unmatched>", "GET", "404") == 1
    assert seen[("styletrace_inference_seconds_count", frozenset({("operation", "match")}))] == 1
    assert seen[("styletrace_works", frozenset())] == 9
    timed = {
        dict(labels)["stage"]
        for name, labels in seen
        if name == "styletrace_stage_seconds_count" and seen[(name, labels)] > 0
    }  # model time and search time, apart
    assert {"decode", "search", "scoring"} <= timed
    assert any(stage.startswith("model:") for stage in timed)


def test_apps_in_one_process_keep_separate_metrics(settings: Settings, runtime: Runtime) -> None:
    first = TestClient(create_app(settings, runtime))
    second = TestClient(create_app(settings, runtime))
    first.get("/healthz")
    assert 'route="/healthz"' in first.get("/metrics").text
    assert 'route="/healthz"' not in second.get("/metrics").text


def test_unexpected_error_is_a_generic_500_and_logged(
    settings: Settings,
    runtime: Runtime,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(runtime.matcher, "match", broken)
    with (
        caplog.at_level(logging.ERROR),
        TestClient(create_app(settings, runtime), raise_server_exceptions=False) as client,
    ):
        code, message = error_of(match(client, art("alice", 1)), 500)
    assert code == "internal_error" and "secret" not in message
    assert "secret internals" in caplog.text


def test_a_full_queue_answers_503_with_retry_after(settings: Settings, runtime: Runtime) -> None:
    """With every worker busy and the backlog at its limit, a request is refused at once."""
    settings.inference_workers, settings.max_queued_requests = 1, 0
    app = create_app(settings, runtime)
    with TestClient(app) as client:  # a 503 is the point here, so not the checked client
        limiter, holder = app.state.limiter, object()
        client.portal.call(limiter.acquire_on_behalf_of, holder)  # type: ignore[union-attr]
        files = {"image": ("q.png", art("alice", 1), "image/png")}
        busy = client.post("/v1/match", headers=AUTH, files=files)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert "STYLETRACE_MAX_QUEUED_REQUESTS=0" in busy.json()["error"]["message"]
        assert "styletrace_inference_queued 0.0" in client.get("/metrics").text
        client.portal.call(limiter.release_on_behalf_of, holder)  # type: ignore[union-attr]
        assert client.post("/v1/match", headers=AUTH, files=files).status_code == 200


def test_a_queue_too_slow_to_clear_answers_503_with_the_expected_wait(
    settings: Settings, runtime: Runtime
) -> None:
    """Room in the backlog is not enough: a request that would wait longer than
    STYLETRACE_MAX_QUEUE_WAIT_SECONDS, at the calls' recent pace, is refused at once."""
    settings.inference_workers, settings.max_queue_wait_seconds = 2, 10
    app = create_app(settings, runtime)
    with TestClient(app) as client:
        limiter, holders = app.state.limiter, [object(), object()]
        for holder in holders:
            client.portal.call(limiter.acquire_on_behalf_of, holder)  # type: ignore[union-attr]
        files = {"image": ("q.png", art("alice", 1), "image/png")}
        app.state.service_time.observe(30.0)  # each call has lately taken 30 s
        busy = client.post("/v1/match", headers=AUTH, files=files)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "15"  # 1 x 30 s / 2
        assert "about 15 s of work ahead" in busy.json()["error"]["message"]
        for holder in holders:
            client.portal.call(limiter.release_on_behalf_of, holder)  # type: ignore[union-attr]
        assert client.post("/v1/match", headers=AUTH, files=files).status_code == 200
        assert app.state.service_time.seconds < 30.0  # the fast call pulled the average down
