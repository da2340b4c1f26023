"""Versioned index snapshots under DATA_DIR/index/<snapshot id>/, with a CURRENT pointer that
is swapped atomically; a snapshot whose files are missing or corrupt is ignored (the caller
rebuilds from the catalog). The library freezes a snapshot under its lock and a
`SnapshotWriter` writes it after the lock is released."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer.blobs import atomic_write
from indexer.milvus import MilvusIndex, read_pointer
from indexer.vectors import FaissBinaryIndex, VectorIndex, load_float_index

log = logging.getLogger(__name__)
KEEP = 3


@dataclass(frozen=True)
class Snapshot:
    """A saved set of indexes, the model ids they were built with, and the identity of the
    catalog database they reflect (0: written before it was recorded)."""

    snapshot_id: str
    models: dict[str, str]
    indexes: dict[str, VectorIndex]
    catalog: int = 0


WriteSnapshot = Callable[[int, Snapshot], Path]  # (catalog generation, frozen snapshot) -> folder


class SnapshotWriter:
    """Writes frozen snapshots under one root one at a time, and never points CURRENT back at
    a snapshot of an earlier generation than one it has written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._newest: tuple[int, Path] | None = None  # generation and folder last written

    def __call__(self, generation: int, snapshot: Snapshot) -> Path:
        """Write a snapshot of the catalog at `generation`; when a later one was written
        meanwhile (a save that froze after this one but got here first), write nothing and
        return that one's folder, which holds every change this one does."""
        with self._lock:
            if self._newest is not None and generation < self._newest[0]:
                return self._newest[1]
            folder = save_snapshot(self.root, snapshot)
            self._newest = (generation, folder)
            return folder


def save_snapshot(root: Path, snapshot: Snapshot) -> Path:
    """Write every index and a manifest into root/<id>/, then point CURRENT at it."""
    folder = root / snapshot.snapshot_id
    tmp = root / f".tmp-{snapshot.snapshot_id}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for space, index in snapshot.indexes.items():
        index.save(tmp / f"{space}.faiss")
    manifest = {
        "snapshot_id": snapshot.snapshot_id,
        "models": snapshot.models,
        "counts": {space: len(index) for space, index in snapshot.indexes.items()},
        "catalog": snapshot.catalog,
    }
    atomic_write(tmp / "manifest.json", json.dumps(manifest, indent=1).encode())
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    atomic_write(root / "CURRENT", snapshot.snapshot_id.encode())
    _prune(root, keep=snapshot.snapshot_id)
    return folder


def load_current(root: Path) -> Snapshot | None:
    """The snapshot CURRENT points at, or None when absent or unreadable."""
    try:
        snapshot_id = (root / "CURRENT").read_text().strip()
        folder = root / snapshot_id
        manifest = json.loads((folder / "manifest.json").read_text())
        indexes: dict[str, VectorIndex] = {}
        for space in manifest["counts"]:
            indexes[space] = load_index(folder / f"{space}.faiss", binary=space == "pdq")
        return Snapshot(
            snapshot_id,
            dict(manifest["models"]),
            indexes,
            int(manifest.get("catalog", 0)),
        )
    except FileNotFoundError:
        return None
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        log.warning("index snapshot unreadable (%s); rebuilding from the catalog", exc)
        return None


def load_index(path: Path, binary: bool) -> VectorIndex:
    """A saved index: a FAISS file, or a pointer to a Milvus collection."""
    pointer = read_pointer(path)
    if pointer is not None:
        return MilvusIndex.from_pointer(pointer)
    return FaissBinaryIndex.load(path) if binary else load_float_index(path)


def _prune(root: Path, keep: str) -> None:
    folders = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
    )
    for old in folders[:-KEEP]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
