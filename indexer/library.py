"""The library: catalog + blobs + one vector index per embedding space, kept in step.
Registration commits to the catalog first, then updates the indexes; removal likewise, so an
acknowledged change survives a crash and start-up reconciliation repairs the indexes."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from indexer.blobs import BlobStore
from indexer.catalog import Catalog, NewWork, Work
from indexer.errors import CatalogError
from indexer.snapshots import load_current, save_snapshot
from indexer.vectors import FaissBinaryIndex, FaissIndex, VectorIndex
from models.embedder import Embedder
from models.images import ImageLimits, load_image_file
from models.pdq import MODEL_ID as PDQ_ID
from models.pdq import PDQ_BITS, PDQ_BYTES, hash_batch

log = logging.getLogger(__name__)
NO_LIMITS = ImageLimits(max_bytes=1 << 40, max_pixels=1 << 40)  # stored works were checked once


@dataclass(frozen=True)
class Submission:
    """One image to register, already decoded by the safe loader."""

    creator_id: str
    work_id: str
    image: Image.Image
    data: bytes
    sha256: str
    source: str
    meta: dict[str, Any] | None = None


@dataclass(frozen=True)
class Hit:
    """One search result: the score (cosine, or Hamming distance for PDQ) and the work."""

    score: float
    work: Work


@dataclass(frozen=True)
class Registered:
    """Outcome of one registration: the stored work and whether it is new."""

    work: Work
    created: bool


class Library:
    """Registered works, searchable by content, style and PDQ hash."""

    def __init__(
        self, data_dir: Path, catalog: Catalog, content: Embedder, style: Embedder
    ) -> None:
        self.data_dir = data_dir
        self.catalog = catalog
        self.blobs = BlobStore(data_dir / "works")
        self.embedders = {"content": content, "style": style}
        self._lock = threading.RLock()
        self._works: dict[int, Work] = {}
        self._per_creator: Counter[str] = Counter()
        self.indexes: dict[str, VectorIndex] = {}
        self.generation = 0

    @property
    def model_ids(self) -> dict[str, str]:
        ids = {space: e.model_id for space, e in self.embedders.items()}
        return {**ids, "pdq": PDQ_ID}

    @property
    def snapshot_id(self) -> str:
        """Identifies the indexed state: the catalog generation it reflects."""
        return f"g{self.generation:08d}"

    def open(self) -> None:
        """Load the newest snapshot and reconcile it with the catalog."""
        snap = load_current(self.data_dir / "index")
        with self._lock:
            if snap is not None and snap.models == self.model_ids:
                self.indexes = dict(snap.indexes)
            else:
                self.indexes = self._empty_indexes()
            self._reconcile()

    def register_one(self, item: Submission) -> Registered:
        """Register one work; a conflict raises (WorkConflict)."""
        outcome = self.register([item])[0]
        if isinstance(outcome, CatalogError):
            raise outcome
        return outcome

    def register(self, items: Sequence[Submission]) -> list[Registered | CatalogError]:
        """Embed a batch, then commit each work with its raw vectors and index it, as one step
        with respect to removals and searches. Per item: the outcome, or the catalog error
        (a conflict) that refused it while the others went ahead."""
        images = [item.image for item in items]
        raw = {space: e.embed_raw(images) for space, e in self.embedders.items()}
        hashes = hash_batch(images)
        out: list[Registered | CatalogError] = []
        for i, item in enumerate(items):
            vectors = {
                (space, e.raw_model_id): raw[space][i].tobytes()
                for space, e in self.embedders.items()
            }
            vectors[("pdq", PDQ_ID)] = hashes[i].tobytes()
            self.blobs.put(item.sha256, item.data)
            with self._lock:
                try:
                    work, created = self.catalog.add(self._new_work(item), vectors)
                except CatalogError as exc:
                    out.append(exc)
                    continue
                if created:
                    self._index_one(work, {s: raw[s][i] for s in raw}, hashes[i])
            out.append(Registered(work, created))
        return out

    def remove(self, work_id: str) -> Work:
        """Tombstone a work; it is gone from every index before this returns."""
        with self._lock:
            work = self.catalog.remove(work_id)
            ids = np.array([work.pk], np.int64)
            for index in self.indexes.values():
                index.remove(ids)
            if self._works.pop(work.pk, None) is not None:
                self._per_creator[work.creator_id] -= 1
            self.generation = self.catalog.generation()
        return work

    def refresh(self) -> None:
        """Pick up registrations and removals committed by another process (a CLI next to a
        running server): cheap when nothing changed, a reconciliation otherwise."""
        with self._lock:
            if self.catalog.generation() != self.generation:
                self._reconcile()

    def search(self, space: str, queries: NDArray[Any], k: int) -> list[list[Hit]]:
        """Nearest active works per query in one space, best first, taken under the lock so a
        removal acknowledged before the search never appears."""
        with self._lock:
            if not self._works:
                return [[] for _ in range(len(queries))]
            scores, ids = self.indexes[space].search(queries, k)
            return [
                [
                    Hit(float(s), self._works[int(i)])
                    for s, i in zip(row_s, row_i, strict=True)
                    if int(i) in self._works
                ]
                for row_s, row_i in zip(scores, ids, strict=True)
            ]

    def works_of(self, creator_id: str) -> int:
        """Number of active works of a creator."""
        return self._per_creator[creator_id]

    @property
    def creators(self) -> int:
        """Number of creators with at least one active work."""
        return sum(1 for n in self._per_creator.values() if n > 0)

    def __len__(self) -> int:
        return len(self._works)

    def save(self) -> Path:
        """Write the indexes as a versioned snapshot."""
        with self._lock:
            return save_snapshot(
                self.data_dir / "index", self.snapshot_id, self.model_ids, self.indexes
            )

    def _new_work(self, item: Submission) -> NewWork:
        w, h = item.image.size
        return NewWork(
            item.work_id,
            item.creator_id,
            item.sha256,
            len(item.data),
            w,
            h,
            item.source,
            dict(item.meta or {}),
        )

    def _index_one(
        self, work: Work, raw: dict[str, NDArray[np.float32]], code: NDArray[np.uint8]
    ) -> None:
        ids = np.array([work.pk], np.int64)
        with self._lock:
            for space, e in self.embedders.items():
                self.indexes[space].add(ids, e.project(raw[space][None]))
            self.indexes["pdq"].add(ids, code[None])
            self._works[work.pk] = work
            self._per_creator[work.creator_id] += 1
            self.generation = self.catalog.generation()

    def _empty_indexes(self) -> dict[str, VectorIndex]:
        out: dict[str, VectorIndex] = {s: FaissIndex(e.dim) for s, e in self.embedders.items()}
        out["pdq"] = FaissBinaryIndex(PDQ_BITS)
        return out

    def _reconcile(self) -> None:
        """Make every index hold exactly the catalog's active works."""
        self._works = self.catalog.active()
        self._per_creator = Counter(w.creator_id for w in self._works.values())
        self.generation = self.catalog.generation()
        active = np.fromiter(self._works, np.int64)
        for space, index in self.indexes.items():
            present = index.ids()
            orphans = present[~np.isin(present, active)]
            index.remove(orphans)
            missing = set(active[~np.isin(active, present)].tolist())
            if missing:
                self._restore(space, index, missing)
            if orphans.size or missing:
                log.info(
                    "%s index: dropped %d orphans, restored %d", space, orphans.size, len(missing)
                )

    def _restore(self, space: str, index: VectorIndex, missing: set[int]) -> None:
        """Index missing works from stored raw vectors, re-embedding where none are stored."""
        embedder = self.embedders.get(space)
        model_id = embedder.raw_model_id if embedder else PDQ_ID
        dtype, width = (np.float32, embedder.raw_dim) if embedder else (np.uint8, PDQ_BYTES)
        found: dict[int, NDArray[Any]] = {}
        for pk, data in self.catalog.vectors(space, model_id):
            if pk in missing:
                found[pk] = np.frombuffer(data, dtype).reshape(width)
        stale = sorted(missing - found.keys())
        found.update(self._reembed(space, stale))
        if found:
            ids = np.fromiter(found, np.int64)
            matrix = np.stack([found[int(i)] for i in ids])
            index.add(ids, embedder.project(matrix) if embedder else matrix)

    def _reembed(self, space: str, pks: list[int]) -> dict[int, NDArray[Any]]:
        """Embed stored originals again (after a model change) and store the new raw vectors."""
        out: dict[int, NDArray[Any]] = {}
        embedder = self.embedders.get(space)
        for pk in pks:
            image = load_image_file(self.blobs.path(self._works[pk].sha256), NO_LIMITS).image
            vector = embedder.embed_raw([image])[0] if embedder else hash_batch([image])[0]
            model_id = embedder.raw_model_id if embedder else PDQ_ID
            self.catalog.put_vectors(pk, {(space, model_id): vector.tobytes()})
            out[pk] = vector
        return out
