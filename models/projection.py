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


def fit_wccn(
    raw: NDArray[np.floating], labels: Sequence[str], dim: int, shrinkage: float = 0.4
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """A style head fitted on labelled vectors: PCA to `dim` directions (no more than the
    data can support), then within-class covariance normalisation (WCCN) in that subspace,
    shrunk towards a scaled identity so that few labels stay stable. Returns (mean, matrix
    [d, dim'])."""
    x = np.asarray(raw, np.float64)
    y = np.asarray(labels)
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    basis = vt[: min(dim, len(x) - 1)].T
    z = (x - mean) @ basis
    within = np.zeros((z.shape[1], z.shape[1]))
    for label in np.unique(y):
        centred = z[y == label] - z[y == label].mean(axis=0)
        within += centred.T @ centred
    within /= len(z)
    scale = np.trace(within) / len(within)
    within = (1 - shrinkage) * within + shrinkage * scale * np.eye(len(within))
    values, vectors = np.linalg.eigh(within)
    matrix = basis @ (vectors / np.sqrt(np.maximum(values, 1e-12)))
    return mean.astype(np.float32), matrix.astype(np.float32)
