"""Large libraries for load benchmarks without hours of model time: the bundled gallery is
registered with the real models, then filler works (small seeded noise images, so PDQ hashes
and keypoints are real) get random raw vectors from stand-in embedders that carry the real
models' identities. Everything goes through Library.register, catalog and audit included,
so a server opened on the result with the real models loads it as it would any library."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from indexer.spaces import Submission
from models.embedder import Embedder, Vectors
from service.bulk import register_sources
from service.registration import from_directory
from service.runtime import build_runtime, open_library
from service.settings import Settings

BATCH = 256
FILLER_SIDE = 48


class StandIn(Embedder):
    """Random raw vectors under a real embedder's identity and projection."""

    def __init__(self, real: Embedder, seed: int) -> None:
        super().__init__()
        self.real = real
        self.name = real.name
        self.rng = np.random.default_rng(seed)

    @property
    def model_id(self) -> str:
        return self.real.model_id

    @property
    def raw_model_id(self) -> str:
        return self.real.raw_model_id

    @property
    def dim(self) -> int:
        return self.real.dim

    @property
    def raw_dim(self) -> int:
        return self.real.raw_dim

    def project(self, raw: NDArray[np.floating]) -> Vectors:
        return self.real.project(raw)

    def _load(self) -> None:
        """Nothing to load: no weights are used."""

    def _embed(self, images: Sequence[Image.Image]) -> NDArray[np.floating]:
        return self.rng.standard_normal((len(images), self.raw_dim)).astype(np.float32)


def filler(index: int) -> tuple[Image.Image, bytes]:
    """A small seeded noise image and its PNG bytes."""
    rng = np.random.default_rng(index)
    pixels = rng.integers(0, 256, (FILLER_SIDE, FILLER_SIDE, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return image, buf.getvalue()


def populate(data_dir: Path, works: int, gallery: Path, seed: int = 0) -> None:
    """A library of `works` works in `data_dir`: the gallery's, then filler up to `works`."""
    import hashlib

    settings = Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    runtime = build_runtime(settings)
    register_sources(runtime.library, settings, from_directory(gallery))
    real = runtime.library.spaces
    have = len(runtime.library)
    runtime.library.save()
    library = open_library(
        settings,
        StandIn(real["content"].embedder, seed),
        StandIn(real["style"].embedder, seed + 1),
    )
    for start in range(have, works, BATCH):
        items = []
        for i in range(start, min(works, start + BATCH)):
            image, data = filler(seed * 10_000_000 + i)
            creator = f"filler-{i % 1000:03d}"
            items.append(
                Submission(
                    creator,
                    f"{creator}/{i}.png",
                    image,
                    data,
                    hashlib.sha256(data).hexdigest(),
                    "synthetic",
                )
            )
        library.register(items)
    library.save()
