"""The library: catalog + blobs + one vector index per embedding space, kept in step.
Registration commits to the catalog first, then updates the indexes; removal likewise, so an
acknowledged change survives a crash and start-up reconciliation repairs the indexes."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from indexer import ownership
from indexer.blobs import BlobStore
from indexer.catalog import Catalog, NewWork, Work
from indexer.claims import ClaimStore
from indexer.errors import CatalogError
from indexer.keys import KeyStore
from indexer.noise import noise_refusals
from indexer.published import PublishedStore
from indexer.sizing import Rebuild, catch_up, needs_refit, rebuilt
from indexer.snapshots import Snapshot, SnapshotWriter, WriteSnapshot, load_current
from indexer.spaces import (
    Hit,
    Registered,
    Space,
    Submission,
    crops_space,
    embed_spaces,
    paired_space,
)
from indexer.vectors import FaissBinaryIndex, FaissIndex, VectorIndex
from models import local
from models.embedder import Embedder
from models.errors import FeaturelessImage
from models.images import ImageLimits, load_image_file
from models.pdq import MODEL_ID as PDQ_ID
from models.pdq import PDQ_BITS, PDQ_BYTES, hash_batch
from models.views import VIEWS

log = logging.getLogger(__name__)
# stored works were checked once, when they were registered
NO_LIMITS = ImageLimits(1 << 40, 1 << 40, max_jpeg_scans=1 << 40, max_decode_seconds=0)
REEMBED_BATCH = 16  # works per forward pass when a model change re-embeds stored originals
RESTORE_BATCH = 500  # works' stored vectors read per query when indexes are restored
WORK_CROPS = "content_crops"  # the space of works' extra content views, several vectors per work
WORK_PAIRED = "content_paired"  # the space of works' paired content view, one vector per work
IVF_FROM = 200_000  # vectors in a space from which it is searched through an IVF
LOCAL = "local"  # stored keypoints of each work for geometric verification (no index)


IndexFactory = Callable[[str, int, bool], VectorIndex]  # (space, dim, binary) -> an EMPTY index


def faiss_index(space: str, dim: int, binary: bool) -> VectorIndex:
    """The default backend: exact FAISS indexes in process (IVF once large, indexer/sizing)."""
    return FaissBinaryIndex(dim) if binary else FaissIndex(dim)


class Library:
    """Registered works, searchable by content, style and PDQ hash."""

    def __init__(
        self,
        data_dir: Path,
        catalog: Catalog,
        content: Embedder,
        style: Embedder,
        content_views: str = "global",
        ivf_from: int = IVF_FROM,
        new_index: IndexFactory = faiss_index,
        rebuild: Rebuild = rebuilt,
        write_snapshot: WriteSnapshot | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.ivf_from = ivf_from
        self.new_index = new_index
        self.rebuild = rebuild  # builds a space's index of another kind, off the lock
        self.write_snapshot = write_snapshot or SnapshotWriter(data_dir / "index")  # ditto
        self.catalog = catalog
        self.keys = KeyStore(catalog.engine)
        self.claims = ClaimStore(catalog.engine)
        self.published = PublishedStore(catalog.engine)
        self.blobs = BlobStore(data_dir / "works")
        self.embedders = {"content": content, "style": style}
        self.spaces = {space: Space(e) for space, e in self.embedders.items()}
        scheme = VIEWS[content_views]
        self.views_per_work = max(1, len(scheme.work(Image.new("RGB", (8, 8)))))
        if scheme.indexes_work_views:
            self.spaces[WORK_CROPS] = crops_space(content, scheme)
        if scheme.paired is not None:
            self.spaces[WORK_PAIRED] = paired_space(content, scheme)
        self._lock = threading.RLock()
        self._sizing = threading.Lock()  # one rebuild at a time: each holds a copy of a space
        self._works: dict[int, Work] = {}
        self._per_creator: Counter[str] = Counter()
        self.indexes: dict[str, VectorIndex] = {}
        self.generation = 0

    @property
    def model_ids(self) -> dict[str, str]:
        return {**{space: sp.model_id for space, sp in self.spaces.items()}, "pdq": PDQ_ID}

    @property
    def snapshot_id(self) -> str:
        """Identifies the indexed state: the catalog generation it reflects."""
        return f"g{self.generation:08d}"

    def open(self) -> None:
        """Load the newest snapshot, reconcile it with the catalog and fit each index to its
        size."""
        snap = load_current(self.data_dir / "index")
        with self._lock:
            if snap is not None and self._fits(snap):
                self.indexes = dict(snap.indexes)
            else:
                self.indexes = self._empty_indexes()
            self._reconcile()
        self._fit_to_size()

    def _fits(self, snap: Snapshot) -> bool:
        """Whether a snapshot was written from this catalog database by these models. One
        of another database behind the same data directory (a fresh one) would hold other
        works' vectors under the same keys; the indexes are then rebuilt from the catalog."""
        fits = snap.models == self.model_ids and snap.catalog == self.catalog.identity()
        if not fits:
            log.info("index snapshot %s does not fit this catalog; rebuilding", snap.snapshot_id)
        return fits

    def register_one(self, item: Submission, actor: str = "system") -> Registered:
        """Register one work; a conflict raises (WorkConflict)."""
        outcome = self.register([item], actor)[0]
        if not isinstance(outcome, Registered):
            raise outcome
        return outcome

    def register(
        self, items: Sequence[Submission], actor: str = "system"
    ) -> list[Registered | CatalogError | FeaturelessImage]:
        """Embed a batch, then commit each work with its raw vectors and index it, as one step
        with respect to removals and searches. Per item: the outcome, or what refused it
        while the others went ahead (a catalog conflict; an image that is noise to the
        content model)."""
        if not items:  # a bulk batch in which no file decoded
            return []
        images = [item.image for item in items]
        raw = embed_spaces(self.spaces, images)
        projected = {space: self._project(space, raw[space]) for space in raw}
        noise = noise_refusals(self.embedders["content"], images, projected["content"][:, 0])
        hashes = hash_batch(images)
        keypoints = [local.extract(img).to_bytes() for img in images]
        with self._lock:
            indexed = ownership.indexed_neighbours(self.indexes["pdq"], self._works, hashes)
        out: list[Registered | CatalogError | FeaturelessImage] = []
        earlier: list[tuple[Work, NDArray[np.uint8]]] = []  # registered from this batch
        for i, item in enumerate(items):
            if (refused := noise[i]) is not None:
                out.append(refused)
                continue
            vectors = {
                (space, sp.raw_id): raw[space][i].tobytes() for space, sp in self.spaces.items()
            }
            vectors[("pdq", PDQ_ID)] = hashes[i].tobytes()
            vectors[(LOCAL, local.FEATURES_ID)] = keypoints[i]
            with self._own_commit():  # with the blob: an opt-out may be deleting the same bytes
                self.blobs.put(item.sha256, item.data)
                warnings = ownership.warnings(
                    item.creator_id, item.sha256, hashes[i], indexed[i], earlier
                )
                new = self._new_work(item, warnings)
                try:
                    work, created = self.catalog.add(new, vectors, actor)
                except CatalogError as exc:
                    out.append(exc)
                    continue
                if created:
                    self._index_one(work, {s: projected[s][i] for s in raw}, hashes[i])
                    earlier.append((work, hashes[i]))
            out.append(Registered(work, created))
        return out

    def _project(self, space: str, raw: NDArray[np.float32]) -> NDArray[np.float32]:
        """[n, v, dim] search vectors from [n, v, raw_dim] raw ones, in one call per batch."""
        n, v, raw_dim = raw.shape
        flat = self.spaces[space].embedder.project(raw.reshape(n * v, raw_dim))
        return flat.reshape(n, v, -1)

    def remove(self, work_id: str, actor: str = "system") -> Work:
        """Tombstone a work; it is gone from every index, and its original deleted, before
        this returns."""
        with self._own_commit():
            work = self.catalog.remove(work_id, actor)
            self._forget([work])
        return work

    def remove_all(self, creator_id: str, actor: str = "system") -> list[Work]:
        """Tombstone every work of a creator (opt-out), as `remove` does, in one commit."""
        with self._own_commit():
            works = self.catalog.remove_all(creator_id, actor)
            self._forget(works)
        return works

    def _forget(self, works: Sequence[Work]) -> None:
        """Drop tombstoned works from the indexes, and their originals unless another
        active work has the same bytes."""
        ids = np.array([w.pk for w in works], np.int64)
        for index in self.indexes.values():
            index.remove(ids)
        for work in works:
            if self._works.pop(work.pk, None) is not None:
                self._per_creator[work.creator_id] -= 1
        for sha in {w.sha256 for w in works}:
            if not self.catalog.in_use(sha):
                self.blobs.path(sha).unlink(missing_ok=True)

    @contextmanager
    def _own_commit(self) -> Iterator[None]:
        """Hold the lock around one commit of this process and the index changes that follow
        it, then count that commit as indexed when the indexes reflected the catalog before it
        and no other process committed since; otherwise reconcile there and then, so the
        snapshot id a receipt cites holds this commit and another process's changes."""
        with self._lock:
            before = self.catalog.generation()
            yield
            after = self.catalog.generation()
            if before == self.generation and after == before + 1:
                self.generation = after
            elif after != self.generation:
                self._reconcile()

    def refresh(self) -> None:
        """Pick up another process's commits (a CLI beside a server); cheap if there are none."""
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

    def keypoints(self, works: Sequence[Work]) -> dict[int, local.LocalFeatures]:
        """Stored local features of some works by key; active works registered before they
        were stored (or by another extraction) are extracted again and stored. Works
        removed meanwhile are left out."""
        stored = self.catalog.vectors_of([w.pk for w in works], LOCAL, local.FEATURES_ID)
        out = {pk: local.LocalFeatures.from_bytes(data) for pk, data in stored.items()}
        for work in works:
            with self._lock:  # a removal must not race the re-extraction and its storing
                if work.pk in out or work.pk not in self._works:
                    continue
                image = load_image_file(self.blobs.path(work.sha256), NO_LIMITS).image
                feats = local.extract(image)
                self.catalog.put_vectors(work.pk, {(LOCAL, local.FEATURES_ID): feats.to_bytes()})
                out[work.pk] = feats
        return out

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
        """Write the indexes as a versioned snapshot, each of the kind its size calls for. Only
        copying them holds the lock (1.4 s for 1M x 512 floats, against 2-6 s to write them):
        a rebuild into the other kind and the writing run off it, so searches and changes go
        on during both. Each save in progress holds its copy until written, as much memory
        again as the indexes held in process (VectorIndex.frozen)."""
        self._fit_to_size()
        with self._lock:
            generation = self.generation
            frozen = {space: index.frozen() for space, index in self.indexes.items()}
            snapshot = Snapshot(self.snapshot_id, self.model_ids, frozen, self.catalog.identity())
        return self.write_snapshot(generation, snapshot)

    def _new_work(self, item: Submission, warnings: list[str]) -> NewWork:
        w, h = item.image.size
        meta = dict(item.meta or {})
        warnings = [*meta.get("warnings", []), *warnings]
        if warnings:
            meta["warnings"] = warnings
        return NewWork(
            item.work_id, item.creator_id, item.sha256, len(item.data), w, h, item.source, meta
        )

    def _index_one(
        self, work: Work, vectors: dict[str, NDArray[np.float32]], code: NDArray[np.uint8]
    ) -> None:
        """Index one work: its search vectors [v, dim] per space, all under the work's id."""
        with self._lock:
            for space, vecs in vectors.items():
                self.indexes[space].add(np.full(len(vecs), work.pk, np.int64), vecs)
            ids = np.array([work.pk], np.int64)
            self.indexes["pdq"].add(ids, code[None])
            self._works[work.pk] = work
            self._per_creator[work.creator_id] += 1

    def _fit_to_size(self) -> None:
        """Exact search for small spaces, IVF from `ivf_from` vectors (indexer/sizing.py)."""
        with self._sizing:
            for space in self.spaces:
                self._refit(space)

    def _refit(self, space: str) -> None:
        """Rebuild one space's index as the kind its size calls for from a copy of its
        contents, without the lock (about 110 s for an IVF of 1M vectors: benchmarks/PERF.md),
        then swap it in, brought up to date with the changes made during the build."""
        with self._lock:
            live = self.indexes[space]
            if not needs_refit(live, self.ivf_from):
                return
            ids, vectors = live.items()
        new = self.rebuild(ids, vectors, isinstance(live, FaissIndex))
        with self._lock:
            if self.indexes[space] is live:  # else open() replaced it: this build is stale
                catch_up(new, live, ids)
                self.indexes[space] = new

    def _empty_indexes(self) -> dict[str, VectorIndex]:
        out = {
            name: self.new_index(name, sp.embedder.dim, False) for name, sp in self.spaces.items()
        }
        out["pdq"] = self.new_index("pdq", PDQ_BITS, True)
        return out

    def _reconcile(self) -> None:
        """Make every index hold exactly the catalog's active works."""
        generation = self.catalog.generation()  # first: a commit after it is reconciled next time
        self._works = self.catalog.active()
        self._per_creator = Counter(w.creator_id for w in self._works.values())
        self.generation = generation
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
        """Index missing works from stored raw vectors [v, width], re-embedding where none
        are stored."""
        sp = self.spaces.get(space)
        model_id = sp.raw_id if sp else PDQ_ID
        dtype, width = (np.float32, sp.embedder.raw_dim) if sp else (np.uint8, PDQ_BYTES)
        found: dict[int, NDArray[Any]] = {}
        keys = sorted(missing)  # by key, not a scan: a refresh after one CLI change is cheap
        for start in range(0, len(keys), RESTORE_BATCH):
            stored = self.catalog.vectors_of(keys[start : start + RESTORE_BATCH], space, model_id)
            found.update(
                {pk: np.frombuffer(b, dtype).reshape(-1, width) for pk, b in stored.items()}
            )
        stale = sorted(missing - found.keys())
        found.update(self._reembed(space, stale))
        if found:
            ids = np.concatenate([np.full(len(v), pk, np.int64) for pk, v in found.items()])
            matrix = np.concatenate(list(found.values()))
            index.add(ids, sp.embedder.project(matrix) if sp else matrix)

    def _reembed(self, space: str, pks: list[int]) -> dict[int, NDArray[Any]]:
        """Embed stored originals again (after a model change), REEMBED_BATCH works per
        forward pass, and store the new raw vectors."""
        out: dict[int, NDArray[Any]] = {}
        sp = self.spaces.get(space)
        key = (space, sp.raw_id if sp else PDQ_ID)
        for start in range(0, len(pks), REEMBED_BATCH):
            chunk = pks[start : start + REEMBED_BATCH]
            images = [
                load_image_file(self.blobs.path(self._works[pk].sha256), NO_LIMITS).image
                for pk in chunk
            ]
            vectors = (
                embed_spaces({space: sp}, images)[space] if sp else hash_batch(images)[:, None, :]
            )
            for pk, v in zip(chunk, vectors, strict=True):
                self.catalog.put_vectors(pk, {key: v.tobytes()})
                out[pk] = v
        return out
