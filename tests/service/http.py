"""Helpers for the HTTP tests: the admin header, drawings as PNG bytes, a client that fails
the test on any 5xx, and keys and works made over the API."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import ADMIN_KEY
from tests.fakes import PALETTES, drawing

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
Answer = Any  # httpx2.Response (or httpx.Response): whichever TestClient is built on
Keys = dict[str, dict[str, str]]  # name -> {"Authorization": ..., "id": key id}


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def art(creator: str, seed: int) -> bytes:
    return png(drawing(seed, PALETTES[creator]))


@contextmanager
def checked_client(app: FastAPI) -> Iterator[TestClient]:
    """A client over the app's lifespan that fails the test if any answer was a 5xx."""
    answers: list[Answer] = []
    with TestClient(app) as client:
        client.event_hooks = {"request": [], "response": [answers.append]}
        yield client
    assert [r.status_code for r in answers if r.status_code >= 500] == []


def new_key(client: TestClient, role: str, creator: str | None = None) -> dict[str, str]:
    """A key made by the admin: its header value and its id."""
    r = client.post("/v1/keys", headers=AUTH, json={"role": role, "creator_id": creator})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}", "id": r.json()["key_id"]}


def bearer(key: dict[str, str]) -> dict[str, str]:
    return {"Authorization": key["Authorization"]}


def register_as(client: TestClient, key: dict[str, str], creator: str, seed: int) -> Answer:
    """Register drawing `seed` as `creator/w<seed>.png` with `key`."""
    return client.post(
        "/v1/works",
        headers=bearer(key),
        data={"creator_id": creator, "work_id": f"{creator}/w{seed}.png"},
        files={"image": ("w.png", art(creator, seed), "image/png")},
    )
