"""The load benchmark's large libraries: filler works carry the real models' identities, so
a server opened on them with the real models indexes them as stored, without re-embedding."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from benchmarks.synthetic import StandIn, populate
from models.registry import load_profile
from service.runtime import build_runtime
from service.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "gallery"


def test_filler_works_open_with_the_real_models_as_stored(tmp_path: Path) -> None:
    gallery = tmp_path / "gallery"
    for creator in ("andy-fitzsimon", "gerald-g"):
        first = sorted((EXAMPLES / creator).glob("*.png"))[0]
        (gallery / creator).mkdir(parents=True)
        shutil.copy(first, gallery / creator / first.name)
    data = tmp_path / "data"
    populate(data, 20, gallery)
    runtime = build_runtime(Settings(data_dir=data, _env_file=None))  # type: ignore[call-arg]
    library = runtime.library
    assert len(library) == 20 and library.creators == 2 + 18
    assert not any(e._loaded for e in library.embedders.values())  # nothing re-embedded
    assert runtime.library.catalog.get("filler-019/19.png").creator_id == "filler-019"


def test_stand_in_keeps_the_identity_and_projection_of_the_real_model() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    real = load_profile(settings.profile).embedder("content")
    fake = StandIn(real, seed=3)
    assert (fake.model_id, fake.raw_model_id, fake.dim) == (
        real.model_id,
        real.raw_model_id,
        real.dim,
    )
    raw = fake.embed_raw([None] * 4)  # type: ignore[list-item]
    assert raw.shape == (4, real.raw_dim)
    np.testing.assert_allclose(np.linalg.norm(fake.embed(list(range(2))), axis=1), 1, rtol=1e-5)  # type: ignore[arg-type]
