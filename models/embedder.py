"""The `Embedder` seam: images in, L2-normalised float32 vectors out, with a stable model id."""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from models.stages import stage

Vectors = NDArray[np.float32]


def file_sha256(path: Path | str, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def l2_normalise(x: NDArray[np.floating]) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero)."""
    y: Vectors = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(y, axis=1, keepdims=True)
    out: Vectors = (y / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


class Embedder(ABC):
    """Maps a batch of RGB images to an [n, dim] float32 array of unit vectors.

    Subclasses write `_load()` (heavy, called once, under a lock) and `_embed()`; the public
    `embed()` loads lazily so that constructing an embedder costs nothing.
    """

    name: str = "embedder"
    # Measured for a model in its profile: the cosine to random noise of the same size at and
    # above which an image is noise to this model (its embedding is every noise image's);
    # None: not measured, and not checked.
    noise_cosine: float | None = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False

    @property
    @abstractmethod
    def model_id(self) -> str:
        """Stable identity: architecture, settings and the sha256 of the weights."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """Length of each output vector."""

    def load(self) -> None:
        """Load weights once; safe to call from several threads."""
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True

    @property
    def raw_model_id(self) -> str:
        """Identity of the stored raw vectors (differs from model_id when a projection applies)."""
        return self.model_id

    def embed(self, images: Sequence[Image.Image]) -> Vectors:
        """Embed RGB images; returns unit vectors, one row per image."""
        return self.project(self.embed_raw(images))

    def embed_raw(self, images: Sequence[Image.Image]) -> Vectors:
        """The vectors to store: a later refit of the projection re-projects these."""
        if not images:
            return np.zeros((0, self.raw_dim), dtype=np.float32)
        self.load()
        with stage(f"model:{self.name}"):
            return l2_normalise(self._embed(images))

    @property
    def raw_dim(self) -> int:
        """Length of the stored raw vectors."""
        return self.dim

    def project(self, raw: NDArray[np.floating]) -> Vectors:
        """Map stored raw vectors into the search space (identity unless projected)."""
        return l2_normalise(raw)

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def _embed(self, images: Sequence[Image.Image]) -> NDArray[np.floating]: ...
