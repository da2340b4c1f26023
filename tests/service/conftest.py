"""HTTP fixtures: a checked client on the fake runtime, and a small tenant world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.runtime import Runtime
from service.settings import Settings
from tests.service.http import Keys, checked_client, new_key, register_as


@pytest.fixture
def client(settings: Settings, runtime: Runtime) -> Iterator[TestClient]:
    with checked_client(create_app(settings, runtime)) as client:
        yield client


@pytest.fixture
def keys(client: TestClient) -> Keys:
    """Creator keys for alice (works 1, 2) and bob (101, 102), a platform and a reviewer."""
    made = {
        "alice": new_key(client, "creator", "alice"),
        "bob": new_key(client, "creator", "bob"),
        "platform": new_key(client, "platform"),
        "reviewer": new_key(client, "reviewer"),
    }
    for creator, seeds in (("alice", (1, 2)), ("bob", (101, 102))):
        for seed in seeds:
            assert register_as(client, made[creator], creator, seed).status_code == 201
    return made
