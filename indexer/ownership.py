"""Ownership conflicts at registration: another creator already registered the same bytes
or a near copy of them (PDQ within its match distance). Both works are kept; the conflict
is a warning on the new work and in the audit log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from indexer.catalog import Work
from indexer.vectors import VectorIndex
from models.pdq import MATCH_DISTANCE, hamming, informative

CANDIDATES = 8  # nearest PDQ hashes checked for another owner

Near = list[tuple[int, Work]]  # (PDQ distance, work)


def indexed_neighbours(
    index: VectorIndex, works: Mapping[int, Work], codes: NDArray[np.uint8]
) -> list[Near]:
    """Per hash: the active indexed works within PDQ's match distance, from one search for
    the whole batch."""
    if not works or not len(codes):
        return [[] for _ in range(len(codes))]
    distances, ids = index.search(codes, CANDIDATES)
    return [
        [
            (int(d), works[int(pk)])
            for d, pk in zip(row_d, row_ids, strict=True)
            if int(pk) in works and d <= MATCH_DISTANCE and informative(code)
        ]
        for code, row_d, row_ids in zip(codes, distances, ids, strict=True)
    ]


def warnings(
    creator_id: str,
    sha256: str,
    code: NDArray[np.uint8],
    indexed: Near,
    earlier: Sequence[tuple[Work, NDArray[np.uint8]]],
) -> list[str]:
    """Conflicts of a new work with other creators' works: those indexed when its batch
    began and those registered earlier in the batch, nearest first, each work once."""
    near = indexed + [
        (d, work)
        for work, other in earlier
        if (d := hamming(code.tobytes(), other.tobytes())) <= MATCH_DISTANCE and informative(code)
    ]
    found: dict[int, str] = {}
    for d, other in sorted(near, key=lambda pair: pair[0]):
        if other.creator_id != creator_id and other.pk not in found:
            what = "the same bytes" if other.sha256 == sha256 else f"a near copy (PDQ distance {d})"
            found[other.pk] = (
                f"ownership conflict: {what} already registered by creator "
                f"{other.creator_id!r} as {other.work_id!r}"
            )
    return list(found.values())
