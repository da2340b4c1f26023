"""Choosing the vector index by size: exact (flat) search below a threshold, an IVF with
trained centroids above it, its `nprobe` tuned so recall@10 against exact search reaches
RECALL on perturbed stored vectors. Back to flat below half the threshold (hysteresis)."""

from __future__ import annotations

import logging
import math

import numpy as np
from numpy.typing import NDArray

from indexer.vectors import FaissIndex, FaissIvfIndex, VectorIndex

log = logging.getLogger(__name__)
RECALL = 0.95
TUNING_QUERIES = 200
TUNING_NOISE = 0.7  # norm of the noise added to a stored unit vector: harder than an edited copy
SAMPLE_PER_LIST = 64  # training vectors per centroid


def fit_to_size(index: VectorIndex, ivf_from: int) -> VectorIndex:
    """The same index, or its contents rebuilt as the kind its size calls for."""
    n = len(index)
    if isinstance(index, FaissIndex) and n >= ivf_from:
        ids, vectors = index.items()
        log.info("building an IVF index for %d vectors", n)
        return build_ivf(ids, vectors, index)
    if isinstance(index, FaissIvfIndex) and n < ivf_from // 2:
        ids, vectors = index.items()
        flat = FaissIndex(index.dim)
        flat.add(ids, vectors)
        return flat
    return index


def build_ivf(
    ids: NDArray[np.int64], vectors: NDArray[np.float32], exact: VectorIndex
) -> FaissIvfIndex:
    """Train nlist = 4 sqrt(n) centroids, add everything, tune nprobe against `exact`."""
    rng = np.random.default_rng(0)
    nlist = max(1, int(4 * math.sqrt(len(vectors))))
    sample = vectors[
        rng.choice(len(vectors), min(len(vectors), SAMPLE_PER_LIST * nlist), replace=False)
    ]
    ivf = FaissIvfIndex.trained(sample, nlist, 1)
    ivf.add(ids, vectors)
    picked = vectors[rng.integers(0, len(vectors), TUNING_QUERIES)]
    noise = rng.normal(size=picked.shape).astype(np.float32)
    noise *= TUNING_NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
    queries = picked + noise
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    ivf.set_nprobe(tuned_nprobe(ivf, exact.search(queries, 10)[1], queries))
    return ivf


def recall_at_10(truth: NDArray[np.int64], got: NDArray[np.int64]) -> float:
    """Mean share of each exact top 10 that an approximate top 10 found."""
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got, strict=True)]))


def tuned_nprobe(ivf: FaissIvfIndex, truth: NDArray[np.int64], queries: NDArray[np.float32]) -> int:
    """The fewest lists, doubling from 4, whose top 10 recall RECALL of the exact top 10."""
    nprobe = 4
    while nprobe < ivf.nlist:
        ivf.set_nprobe(nprobe)
        if recall_at_10(truth, ivf.search(queries, 10)[1]) >= RECALL:
            return nprobe
        nprobe *= 2
    return ivf.nlist
