"""Choosing the vector index by size: exact (flat) search below a threshold, an IVF with
trained centroids above it, its `nprobe` tuned so recall@10 against exact search reaches
RECALL on perturbed stored vectors. Back to flat below half the threshold (hysteresis).
A rebuild reads only a copy of an index's contents, never the index itself, so the library
runs it off its lock and then `catch_up` applies the changes made meanwhile."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TypeGuard

import numpy as np
from numpy.typing import NDArray

from indexer.vectors import FaissIndex, FaissIvfIndex, Ids, VectorIndex

log = logging.getLogger(__name__)
RECALL = 0.95
TUNING_QUERIES = 200
TUNING_NOISE = 0.7  # norm of the noise added to a stored unit vector: harder than an edited copy
SAMPLE_PER_LIST = 64  # training vectors per centroid

Refittable = FaissIndex | FaissIvfIndex
Rebuild = Callable[[Ids, NDArray[np.float32], bool], VectorIndex]  # (ids, vectors, to_ivf)


def needs_refit(index: VectorIndex, ivf_from: int) -> TypeGuard[Refittable]:
    """Whether the index is of the wrong kind for its size: flat from `ivf_from` vectors, or
    an IVF below half of that."""
    n = len(index)
    if isinstance(index, FaissIndex):
        return n >= ivf_from
    return isinstance(index, FaissIvfIndex) and n < ivf_from // 2


def rebuilt(ids: Ids, vectors: NDArray[np.float32], to_ivf: bool) -> VectorIndex:
    """A new index holding these vectors: a tuned IVF, or flat."""
    if to_ivf:
        log.info("building an IVF index for %d vectors", len(ids))
        return build_ivf(ids, vectors)
    flat = FaissIndex(vectors.shape[1])
    flat.add(ids, vectors)
    return flat


def catch_up(new: VectorIndex, live: Refittable, copied: Ids) -> None:
    """Bring `new`, built from a copy of `live` that held `copied`, to what `live` holds now:
    works removed since leave it, works added since come with their vectors read from `live`.
    Work ids are never reused and a work's vectors never change while it is indexed, so
    comparing ids finds every change."""
    now, before = np.unique(live.ids()), np.unique(copied)  # a work's ids once, not per crop
    new.remove(np.setdiff1d(before, now, assume_unique=True))
    added = np.setdiff1d(now, before, assume_unique=True)
    if added.size:
        new.add(*live.items(among=added))  # all of a work's vectors in one add: add replaces


def build_ivf(ids: Ids, vectors: NDArray[np.float32]) -> FaissIvfIndex:
    """Train nlist = 4 sqrt(n) centroids, add everything, tune nprobe against exact search
    over the same vectors."""
    rng = np.random.default_rng(0)
    nlist = max(1, min(int(4 * math.sqrt(len(vectors))), len(vectors)))  # k-means needs n >= k
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
    ivf.set_nprobe(tuned_nprobe(ivf, ids[exact_top10(vectors, queries)], queries))
    return ivf


def exact_top10(vectors: NDArray[np.float32], queries: NDArray[np.float32]) -> NDArray[np.int64]:
    """Rows of `vectors` with the 10 highest inner products per query, by brute force."""
    import faiss

    k = min(10, len(vectors))
    rows = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)[1]
    return np.asarray(rows, np.int64)


def recall_at_10(truth: NDArray[np.int64], got: NDArray[np.int64]) -> float:
    """Mean share of the works in each exact top 10 that an approximate top 10 found. Works,
    not rows: where a work has several vectors (its crops), its id can fill several places
    of both lists, and counting places would never reach 1."""
    shares = []
    for a, b in zip(truth, got, strict=True):
        wanted = set(a.tolist()) - {-1}
        shares.append(len(wanted & set(b.tolist())) / len(wanted) if wanted else 1.0)
    return float(np.mean(shares))


def tuned_nprobe(ivf: FaissIvfIndex, truth: NDArray[np.int64], queries: NDArray[np.float32]) -> int:
    """The fewest lists, doubling from 4, whose top 10 recall RECALL of the exact top 10."""
    nprobe = 4
    while nprobe < ivf.nlist:
        ivf.set_nprobe(nprobe)
        if recall_at_10(truth, ivf.search(queries, 10)[1]) >= RECALL:
            return nprobe
        nprobe *= 2
    return ivf.nlist
