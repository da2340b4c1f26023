"""Schemathesis over the app's own OpenAPI schema, in process (ASGI), with the admin key: every
operation, with requests that fit the schema and requests that break it, and no answer may be a
server error. Deterministic (derandomized) and small in `make test`; `make fuzz` runs many more
examples per operation (STYLETRACE_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from service.api.app import create_app
from service.runtime import build_runtime
from service.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.fakes import HistogramEmbedder, PixelEmbedder, fake_calibration
from tests.hostile import tally
from tests.service.http import AUTH, art

EXAMPLES = int(os.environ.get("STYLETRACE_FUZZ_EXAMPLES", "3"))
# The schema does not depend on the data: read it from an app that is never started.
OPENAPI = create_app(Settings(data_dir=Path("/nonexistent"), _env_file=None)).openapi()  # type: ignore[call-arg]
SCHEMA = schemathesis.openapi.from_dict(OPENAPI)
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}


def breakable(label: str) -> bool:
    """Does the operation take anything a request could get wrong (parameters or a body)?"""
    method, path = label.split(" ", 1)
    spec = OPENAPI["paths"][path][method.lower()]
    return bool(spec.get("parameters") or spec.get("requestBody"))


CASES = [(label, GenerationMode.POSITIVE) for label in OPERATIONS] + [
    (label, GenerationMode.NEGATIVE) for label in OPERATIONS if breakable(label)
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """An app on the fake runtime with two registered works and a folder to scan."""
    root: Path = tmp_path_factory.mktemp("schema")
    (root / "scans").mkdir()
    settings = Settings(  # type: ignore[call-arg]
        data_dir=root / "data",
        admin_key=ADMIN_KEY,
        scan_root=root / "scans",
        rate_limit_per_minute=0,
        _env_file=None,
    )
    fakes = (PixelEmbedder(), HistogramEmbedder())
    app = create_app(settings, build_runtime(settings, *fakes, fake_calibration(*fakes)))
    client = TestClient(app)  # no lifespan here: schemathesis starts it once, in process
    for seed in (1, 2):
        r = client.post(
            "/v1/works",
            headers=AUTH,
            data={"creator_id": "alice", "work_id": f"alice/w{seed}.png"},
            files={"image": ("w.png", art("alice", seed), "image/png")},
        )
        assert r.status_code == 201, r.text
    return app


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{m} {lab}" for lab, m in CASES])
def test_no_operation_answers_a_server_error(
    app: FastAPI, label: str, mode: GenerationMode
) -> None:
    strategy = OPERATIONS[label].as_strategy(generation_mode=mode)

    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(strategy)
        case.headers = {**(case.headers or {}), **AUTH}  # generated auth never replaces the key
        response = case.call(app=app)
        tally.record("schemathesis", f"{mode} {label}", response.status_code)
        assert response.status_code < 500, case.as_curl_command()

    run()
