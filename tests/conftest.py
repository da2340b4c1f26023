"""Shared fixtures: settings in a temporary data dir, and a runtime built on the fakes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from service.calibration import Calibration
from service.runtime import Runtime, build_runtime
from service.settings import Settings
from tests.fakes import HistogramEmbedder, PixelEmbedder, fake_calibration

ADMIN_KEY = "test-admin-key"

# `make test` draws the same property-test examples on every run (CI stays deterministic);
# `make fuzz` explores new ones (HYPOTHESIS_PROFILE=explore) and keeps what it finds there.
hypothesis_settings.register_profile("default", derandomize=True, database=None, deadline=None)
hypothesis_settings.register_profile("explore", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def fake_cal() -> Calibration:
    return fake_calibration(PixelEmbedder(), HistogramEmbedder())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Rate limits off: tests send requests far faster than a client should; the tests of the
    limits turn them on."""
    return Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data", admin_key=ADMIN_KEY, rate_limit_per_minute=0, _env_file=None
    )


@pytest.fixture
def runtime(settings: Settings, fake_cal: Calibration) -> Iterator[Runtime]:
    yield build_runtime(settings, PixelEmbedder(), HistogramEmbedder(), fake_cal)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL server for the session, or a skip saying why there is none."""
    from tests.postgres import postgres_server

    try:
        server = postgres_server()
        url = server.__enter__()
    except RuntimeError as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        yield url
    finally:
        server.__exit__(None, None, None)
