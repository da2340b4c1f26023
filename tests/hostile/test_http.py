"""The bad-input corpus through the real HTTP API: every answer is a 2xx (a valid odd image) or a
4xx with a JSON error a person can read; never a 5xx, never a file outside the data directory.
Every request is counted (tests/hostile/tally.py) and the totals printed at the end of the run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.runtime import build_runtime
from service.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.fakes import HistogramEmbedder, PixelEmbedder, fake_calibration
from tests.hostile import tally
from tests.hostile.corpus import HOSTILE_IDS, TOP_K, Upload, drawing, encode, uploads
from tests.service.http import AUTH, Answer

REPO = Path(__file__).resolve().parents[2]
LEAKS = (b"root:x:0:0", b"Traceback", b"sqlite3.", b'File "/')


def tree(root: Path, skip: Path | None = None) -> set[str]:
    """Every path under root (skipping one subtree), relative to it."""
    found = set()
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if skip is not None and (here == skip or skip in here.parents):
            dirs.clear()
            continue
        found |= {str((here / name).relative_to(root)) for name in dirs + files}
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    """One app on the fake runtime for the module, and a check that nothing was written
    outside its data directory: not elsewhere in its temporary folder, nor in the repository."""
    root = tmp_path_factory.mktemp("hostile")
    settings = Settings(  # type: ignore[call-arg]
        data_dir=root / "data", admin_key=ADMIN_KEY, rate_limit_per_minute=0, _env_file=None
    )
    runtime = build_runtime(
        settings,
        PixelEmbedder(),
        HistogramEmbedder(),
        fake_calibration(PixelEmbedder(), HistogramEmbedder()),
    )
    before_root, before_repo = tree(root, settings.data_dir), tree(REPO, REPO / ".git")
    with TestClient(create_app(settings, runtime)) as client:
        for seed, colour in enumerate([(250, 10, 10), (10, 10, 250)]):
            image = drawing((64 + seed, 48))
            image.paste(colour, (0, 0, 20, 20))
            r = client.post(
                "/v1/works",
                headers=AUTH,
                data={"creator_id": "alice", "work_id": f"alice/seed{seed}.png"},
                files={"image": ("a.png", encode(image, "PNG"), "image/png")},
            )
            assert r.status_code == 201, r.text
        yield client, settings
    assert tree(root, settings.data_dir) == before_root
    new_in_repo = tree(REPO, REPO / ".git") - before_repo
    assert not {p for p in new_in_repo if "__pycache__" not in p and ".hypothesis" not in p}
    data = settings.data_dir.resolve()
    for path in settings.data_dir.rglob("*"):
        assert not path.is_symlink() and data in path.resolve().parents, path


def judge(area: str, what: str, r: Answer, expect: str = "either") -> str | None:
    """Count the answer; a sentence saying what is wrong with it, or None when it is fine."""
    tally.record(area, what, r.status_code)
    status, body = r.status_code, r.content
    if status >= 500:
        return f"{area} {what}: {status} {body[:300]!r}"
    if any(leak in body for leak in LEAKS):
        return f"{area} {what}: answer leaks internals: {body[:300]!r}"
    if expect == "ok" and not 200 <= status < 300:
        return f"{area} {what}: expected 2xx, got {status} {body[:300]!r}"
    if expect == "refused" and not 400 <= status < 500:
        return f"{area} {what}: expected 4xx, got {status}"
    if 400 <= status < 500:
        return _bad_error_body(area, what, r)
    return None


def _bad_error_body(area: str, what: str, r: Answer) -> str | None:
    try:
        error = r.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"{area} {what}: {r.status_code} without a JSON error: {r.content[:200]!r}"
    message = error.get("message")
    if not isinstance(error.get("code"), str) or not isinstance(message, str) or not message:
        return f"{area} {what}: error without code and message: {error}"
    if len(message) > 1000:
        return f"{area} {what}: a {len(message)}-character message echoes the input"
    return None


def post_image(client: TestClient, route: str, upload: Upload, form: dict[str, str]) -> Answer:
    files = {"image": (upload.filename, upload.data, upload.content_type)}
    return client.post(route, headers=AUTH, data=form, files=files)


UPLOADS = list(uploads())


def _flat(data: bytes) -> bool:
    """Does the file decode to one flat colour (registration refuses those)?"""
    from models.errors import FeaturelessImage
    from models.images import load_image_bytes
    from service.registration import refuse_flat

    try:
        refuse_flat(load_image_bytes(data).image)
    except FeaturelessImage:
        return True
    return False


def test_every_corpus_file_through_every_upload_route(world: tuple[TestClient, Settings]) -> None:
    client, _ = world
    problems = []
    for upload in UPLOADS:
        claim_expect = "either" if upload.expect == "ok" else upload.expect
        routes: list[tuple[str, dict[str, str], str]] = [
            ("/v1/match", {}, upload.expect),
            ("/v1/match", {"top_k": "3"}, upload.expect),
            ("/v1/evidence", {}, upload.expect),
            (
                "/v1/works",
                {"creator_id": "alice", "work_id": f"alice/{upload.name}"},
                "featureless" if upload.expect == "ok" and _flat(upload.data) else upload.expect,
            ),
            ("/v1/claims", {"creator_id": "alice", "kind": "revshare"}, claim_expect),
        ]
        for route, form, expect in routes:
            r = post_image(client, route, upload, form)
            if expect == "featureless":  # a flat image decodes, but is no work to register
                code = r.json().get("error", {}).get("code") if r.status_code == 422 else None
                if code != "featureless_image":
                    problems.append(f"POST {route} {upload.name}: {r.status_code} {r.text[:200]}")
                continue
            problems.append(judge(f"POST {route}", upload.name, r, expect))
    assert [p for p in problems if p] == [], "\n".join(p for p in problems if p)


def test_odd_images_keep_their_shape_in_the_answer(world: tuple[TestClient, Settings]) -> None:
    client, _ = world
    shapes = {
        "1x1": (1, 1),
        "1x10000": (1, 10000),
        "10000x1": (10000, 1),
        "exif-rotate-6": (20, 40),
    }
    for upload in UPLOADS:
        if upload.name in shapes:
            r = post_image(client, "/v1/match", upload, {})
            assert judge("POST /v1/match", upload.name, r, "ok") is None
            query = r.json()["query"]
            assert (query["width"], query["height"]) == shapes[upload.name]


@pytest.mark.parametrize("top_k", TOP_K)
def test_absurd_top_k(world: tuple[TestClient, Settings], top_k: str) -> None:
    client, settings = world
    upload = next(u for u in UPLOADS if u.name == "1x1")
    r = post_image(client, "/v1/match", upload, {"top_k": top_k})
    assert judge("top_k", repr(top_k), r) is None
    if r.status_code == 200:  # only a number the limits allow, or none, gets through
        assert top_k == "" or 1 <= int(top_k.strip()) <= settings.max_top_k
    else:
        assert r.status_code == 422 and "top_k" in r.json()["error"]["message"]


def id_requests(bad: str, seed: int) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, request arguments) for every route that takes a creator, work or other
    id, with `bad` in it: in the path (percent-encoded, and raw where it has slashes), in form
    fields, JSON bodies and query strings. Uploads are a drawing of its own size per `seed`."""
    enc, raw = quote(bad, safe=""), quote(bad, safe="/")
    image = {"image": ("x.png", encode(drawing((30 + seed, 20)), "PNG"), "image/png")}
    terms = {"policy": "track"}
    for path_id in {enc, raw}:
        yield "GET", f"/v1/works/{path_id}", {}
        yield "DELETE", f"/v1/works/{path_id}", {}
        yield "GET", f"/v1/thumbnails/{path_id}", {}
        yield "GET", f"/v1/terms/works/{path_id}", {}
        yield "PUT", f"/v1/terms/works/{path_id}", {"json": terms}
    yield "GET", f"/v1/terms/creators/{enc}", {}
    yield "PUT", f"/v1/terms/creators/{enc}", {"json": terms}
    yield "DELETE", f"/v1/creators/{enc}/works", {}
    yield "GET", f"/v1/receipts/{enc}", {}
    yield "GET", f"/v1/claims/{enc}", {}
    yield "GET", f"/v1/claims/{enc}/evidence", {}
    yield "POST", f"/v1/claims/{enc}/dispute", {"json": {"reason": bad or "x"}}
    yield "DELETE", f"/v1/keys/{enc}", {}
    yield "GET", f"/v1/scans/{enc}", {}
    yield "GET", f"/v1/scans/{enc}/rows", {}
    yield "GET", "/v1/works", {"params": {"creator_id": bad}}
    yield "GET", "/v1/claims", {"params": {"creator_id": bad}}
    yield "GET", "/v1/audit", {"params": {"subject": bad}}
    yield "POST", "/v1/works", {"data": {"creator_id": bad}, "files": image}
    yield "POST", "/v1/works", {"data": {"creator_id": "alice", "work_id": bad}, "files": image}
    yield "POST", "/v1/claims", {"data": {"creator_id": bad, "kind": "revshare"}, "files": image}
    yield "POST", "/v1/keys", {"json": {"role": "creator", "creator_id": bad, "label": bad}}


@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=lambda b: ascii(b[:24]))
def test_hostile_ids_on_every_route_that_takes_one(
    world: tuple[TestClient, Settings], bad: str
) -> None:
    client, _ = world
    problems = []
    for method, path, kwargs in id_requests(bad, HOSTILE_IDS.index(bad)):
        r = client.request(method, path, headers=AUTH, **kwargs)
        problems.append(judge(f"{method} {path.split('/')[2]}", f"{bad[:40]!a} {path[:60]}", r))
    assert [p for p in problems if p] == [], "\n".join(p for p in problems if p)
    works = client.get("/v1/works", headers=AUTH, params={"limit": 1000}).json()["works"]
    for work in works:  # whatever was accepted is a clean id
        assert ".." not in work["work_id"].split("/") and "\0" not in work["work_id"]
        assert work["work_id"].isprintable()


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0und") -> bytes:
    """A multipart body from (field name, file name or None, content) parts, duplicates kept."""
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


PNG = encode(drawing(), "PNG")
FORM = "multipart/form-data; boundary=b0und"
MALFORMED: dict[str, tuple[str, dict[str, str], bytes]] = {
    "no body": ("/v1/match", {}, b""),
    "no image field": ("/v1/match", {"Content-Type": FORM}, multipart([("top_k", None, b"3")])),
    "image as a text field": (
        "/v1/match",
        {"Content-Type": FORM},
        multipart([("image", None, PNG)]),
    ),
    "two images": (
        "/v1/match",
        {"Content-Type": FORM},
        multipart([("image", "a.png", PNG), ("image", "b.png", b"not an image")]),
    ),
    "two top_k": (
        "/v1/match",
        {"Content-Type": FORM},
        multipart([("image", "a.png", PNG), ("top_k", None, b"3"), ("top_k", None, b"abc")]),
    ),
    "unknown fields": (
        "/v1/match",
        {"Content-Type": FORM},
        multipart([("image", "a.png", PNG), ("evil", None, b"1"), ("__proto__", None, b"x")]),
    ),
    "1001 fields": (
        "/v1/match",
        {"Content-Type": FORM},
        multipart([("image", "a.png", PNG)] + [(f"f{i}", None, b"x") for i in range(1001)]),
    ),
    "1001 files": (
        "/v1/match",
        {"Content-Type": FORM},
        multipart([("image", f"{i}.png", b"x") for i in range(1001)]),
    ),
    "wrong boundary": (
        "/v1/match",
        {"Content-Type": FORM},
        multipart([("image", "a.png", PNG)], "x"),
    ),
    "no boundary": ("/v1/match", {"Content-Type": "multipart/form-data"}, PNG),
    "unterminated multipart": ("/v1/match", {"Content-Type": FORM}, b"--b0und\r\nContent-Dispo"),
    "json body": ("/v1/match", {"Content-Type": "application/json"}, b'{"image": "x"}'),
    "urlencoded": (
        "/v1/match",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"image=%89PNG&top_k=3",
    ),
    "raw png": ("/v1/match", {"Content-Type": "image/png"}, PNG),
    "nul in field name": (
        "/v1/match",
        {"Content-Type": FORM},
        multipart([("image", "a.png", PNG), ("top\0k", None, b"3")]),
    ),
    "register without creator": (
        "/v1/works",
        {"Content-Type": FORM},
        multipart([("image", "a.png", PNG)]),
    ),
    "register with two creators": (
        "/v1/works",
        {"Content-Type": FORM},
        multipart(
            [("image", "a.png", PNG), ("creator_id", None, b"alice"), ("creator_id", None, b"../x")]
        ),
    ),
    "claim without kind": (
        "/v1/claims",
        {"Content-Type": FORM},
        multipart([("image", "a.png", PNG), ("creator_id", None, b"alice")]),
    ),
    "claim with a bad kind": (
        "/v1/claims",
        {"Content-Type": FORM},
        multipart([("image", "a.png", PNG), ("creator_id", None, b"alice"), ("kind", None, b"x")]),
    ),
    "terms as a list": ("/v1/terms/creators/alice", {"Content-Type": "application/json"}, b"[1]"),
    "terms not json": ("/v1/terms/creators/alice", {"Content-Type": "application/json"}, b"{"),
    "deep json": ("/v1/keys", {"Content-Type": "application/json"}, b"[" * 5000 + b"]" * 5000),
    "huge number": ("/v1/keys", {"Content-Type": "application/json"}, b'{"role": 1e999999}'),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_requests(world: tuple[TestClient, Settings], name: str) -> None:
    client, _ = world
    route, headers, body = MALFORMED[name]
    method = "PUT" if route.startswith("/v1/terms") else "POST"
    r = client.request(method, route, headers=AUTH | headers, content=body)
    assert judge("malformed", name, r) is None


@pytest.mark.parametrize("size", [2_001, 70_000, 3_000_000])
def test_bodies_over_the_limit(
    world: tuple[TestClient, Settings], size: int, tmp_path: Path
) -> None:
    """Over the byte limit, with and without multipart slack, to every upload route."""
    client, settings = world
    settings.max_upload_bytes, saved = 2000, settings.max_upload_bytes
    try:
        for route in ("/v1/match", "/v1/works", "/v1/claims", "/v1/evidence"):
            form = {"creator_id": "alice", "kind": "revshare"}
            files = {"image": ("big.png", PNG + b"\0" * size, "image/png")}
            r = client.post(route, headers=AUTH, data=form, files=files)
            assert judge("over limit", f"{route} {size}", r, "refused") is None
            assert r.status_code == 413 and "2000 bytes" in r.json()["error"]["message"]
    finally:
        settings.max_upload_bytes = saved


@pytest.mark.parametrize(
    "path", ["/v1/audit?after={n}", "/v1/works?offset={n}", "/v1/scans/x/rows?offset={n}"]
)
def test_integers_past_64_bits_are_refused_not_overflowed(
    world: tuple[TestClient, Settings], path: str
) -> None:
    """Found by schemathesis: an offset past SQLite's 64-bit integers was a 500."""
    client, _ = world
    r = client.get(path.format(n=2**63), headers=AUTH)
    assert judge("integers", path, r, "refused") is None
    assert client.get(path.format(n=2**63 - 1), headers=AUTH).status_code in (200, 404)


def test_the_tally_counts_every_request(world: tuple[TestClient, Settings]) -> None:
    """Runs last in this module: the counts the summary prints, and no 5xx among them."""
    print(tally.summary())
    assert sum(tally.SENT.values()) > 500
    assert tally.SERVER_ERRORS == []
