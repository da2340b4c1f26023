"""Versioned index snapshots under DATA_DIR/index/<snapshot id>/, with a CURRENT pointer that
is swapped atomically; a snapshot whose files are missing or corrupt is ignored (the caller
rebuilds from the catalog)."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from indexer.blobs import atomic_write
from indexer.milvus import MilvusIndex, read_pointer
from indexer.vectors import FaissBinaryIndex, VectorIndex, load_float_index

log = logging.getLogger(__name__)
KEEP = 3


@dataclass(frozen=True)
class Snapshot:
    """A saved set of indexes and the model ids they were built with."""

    snapshot_id: str
    models: dict[str, str]
    indexes: dict[str, VectorIndex]


def save_snapshot(
    root: Path, snapshot_id: str, models: dict[str, str], indexes: dict[str, VectorIndex]
) -> Path:
    """Write every index and a manifest into root/<id>/, then point CURRENT at it."""
    folder = root / snapshot_id
    tmp = root / f".tmp-{snapshot_id}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for space, index in indexes.items():
        index.save(tmp / f"{space}.faiss")
    manifest = {
        "snapshot_id": snapshot_id,
        "models": models,
        "counts": {space: len(index) for space, index in indexes.items()},
    }
    atomic_write(tmp / "manifest.json", json.dumps(manifest, indent=1).encode())
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    atomic_write(root / "CURRENT", snapshot_id.encode())
    _prune(root, keep=snapshot_id)
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
        return Snapshot(snapshot_id, dict(manifest["models"]), indexes)
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
