"""Baselines a sceptical reviewer asks for, as similarity matrices [queries, gallery] (higher
is closer): colour histogram, pHash, PDQ alone, and any raw embedder without calibration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from models.embedder import Embedder
from models.pdq import dihedral_distances, hash_batch
from models.style_stats import colour_histogram
from service.calibrate import embed_all

Similarity = Callable[[Sequence[Image.Image], Sequence[Image.Image]], NDArray[np.float32]]
HASH_BITS = 256  # PDQ; pHash has 64


@cache
def _dct_matrix(n: int) -> NDArray[np.float64]:
    k = np.arange(n)
    m = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * np.sqrt(2 / n)
    m[0] /= np.sqrt(2)
    return m


def phash(img: Image.Image) -> NDArray[np.bool_]:
    """The classic 64-bit perceptual hash: 32x32 grey, 2-D DCT, the 8x8 lowest frequencies
    compared with their median."""
    grey = np.asarray(img.convert("L").resize((32, 32), Image.Resampling.LANCZOS), np.float64)
    d = _dct_matrix(32)
    low = (d @ grey @ d.T)[:8, :8].ravel()
    return low > np.median(low)


def phash_similarity(
    queries: Sequence[Image.Image], gallery: Sequence[Image.Image]
) -> NDArray[np.float32]:
    """1 - Hamming distance / 64 between pHashes."""
    q = np.stack([phash(img) for img in queries])
    g = np.stack([phash(img) for img in gallery])
    distance = (q[:, None, :] != g[None, :, :]).sum(axis=2)
    return (1 - distance / 64).astype(np.float32)


def pdq_similarity(
    queries: Sequence[Image.Image], gallery: Sequence[Image.Image]
) -> NDArray[np.float32]:
    """1 - smallest PDQ Hamming distance over the query's 8 dihedral hashes / 256."""
    codes = hash_batch(gallery)
    distance = np.stack([dihedral_distances(img, codes) for img in queries])
    return (1 - distance / HASH_BITS).astype(np.float32)


def histogram_similarity(
    queries: Sequence[Image.Image], gallery: Sequence[Image.Image]
) -> NDArray[np.float32]:
    """Cosine of square-rooted colour histograms (the Bhattacharyya coefficient)."""
    return colour_histogram(queries) @ colour_histogram(gallery).T


def embedding_similarity(embedder: Embedder) -> Similarity:
    """Cosine of an embedder's vectors, no calibration or normalisation."""

    def similarity(
        queries: Sequence[Image.Image], gallery: Sequence[Image.Image]
    ) -> NDArray[np.float32]:
        return embed_all(embedder, queries) @ embed_all(embedder, gallery).T

    return similarity
