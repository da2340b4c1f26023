"""What the web page needs from the app, over HTTP on the fakes: the page and its files served
without a key (and with a policy that keeps it to this server's own scripts), `GET /v1/me`,
and work previews visible to the same keys as the works."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image

from service.api.web import WEB_DIR
from tests.service.http import AUTH, Keys, bearer


def test_the_page_and_its_files_are_served_without_a_key(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/web/app.js">' in page.text
    for name in sorted(p.name for p in WEB_DIR.iterdir() if p.suffix in (".js", ".css")):
        assert client.get(f"/web/{name}").status_code == 200, name
    assert client.get("/web/missing.js").status_code == 404
    assert client.post("/v1/nowhere", headers=AUTH).json()["error"]["code"] == "not_found"


def test_me_names_the_key_s_role_and_creator(client: TestClient, keys: Keys) -> None:
    assert client.get("/v1/me", headers=AUTH).json() == {
        "key_id": "admin-env",
        "role": "admin",
        "creator_id": None,
    }
    alice = client.get("/v1/me", headers=bearer(keys["alice"])).json()
    assert alice == {"key_id": keys["alice"]["id"], "role": "creator", "creator_id": "alice"}
    assert client.get("/v1/me").status_code == 401


def test_previews_follow_the_works_visibility(client: TestClient, keys: Keys) -> None:
    url = "/v1/thumbnails/alice/w1.png"
    answer = client.get(url, headers=bearer(keys["alice"]), params={"size": 32})
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert max(Image.open(io.BytesIO(answer.content)).size) == 32
    assert client.get(url, headers=bearer(keys["reviewer"])).status_code == 200
    assert client.get("/v1/thumbnails/alice%2Fw1.png", headers=AUTH).status_code == 200
    assert client.get(url, headers=bearer(keys["bob"])).status_code == 404
    assert client.get(url, headers=bearer(keys["platform"])).status_code == 403
    assert client.get("/v1/thumbnails/alice/w9.png", headers=AUTH).status_code == 404
    refused = client.get(url, headers=AUTH, params={"size": 5000})
    assert refused.status_code == 422 and "size" in refused.json()["error"]["message"]

    etag = answer.headers["etag"]
    cached = {**bearer(keys["alice"]), "If-None-Match": etag}
    again = client.get(url, headers=cached, params={"size": 32})
    assert again.status_code == 304 and again.content == b""
