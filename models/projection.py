"""A fitted linear map applied after an embedder: y = normalise((x - mean) @ matrix).
Fitted from data by benchmarks/calibrate.py; stored as .npz next to the profiles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from models.embedder import Embedder, Vectors, file_sha256, l2_normalise


def save_projection(path: Path, mean: NDArray[np.floating], matrix: NDArray[np.floating]) -> None:
    """Write a projection file (mean [d], matrix [d, k])."""
    np.savez(path, mean=np.asarray(mean, np.float32), matrix=np.asarray(matrix, np.float32))


class ProjectedEmbedder(Embedder):
    """Wraps a base embedder with a centring (and optional whitening/LDA) projection."""

    def __init__(self, base: Embedder, projection: Path) -> None:
        super().__init__()
        self.base = base
        self.projection = projection
        self.name = base.name
        with np.load(projection) as data:
            self.mean = data["mean"].astype(np.float32)
            self.matrix = data["matrix"].astype(np.float32)
        self._id = f"{base.model_id}+proj-{file_sha256(projection)[:12]}"

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def raw_model_id(self) -> str:
        return self.base.model_id

    @property
    def raw_dim(self) -> int:
        return self.base.dim

    def _load(self) -> None:
        self.base.load()

    def _embed(self, images: Sequence[Image.Image]) -> Vectors:
        return self.base.embed(images)

    def project(self, raw: NDArray[np.floating]) -> Vectors:
        """Apply the map to raw base vectors (so a refit re-projects, never re-embeds)."""
        return l2_normalise((np.asarray(raw, np.float32) - self.mean) @ self.matrix)
