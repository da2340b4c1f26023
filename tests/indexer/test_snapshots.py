"""Saving a snapshot: searches, registrations and removals go on while it is written, the
snapshot holds the indexes as they were when it was taken, and a save that was overtaken by a
later one never points CURRENT back at its older snapshot."""

import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from indexer.catalog import Catalog
from indexer.library import Library
from indexer.snapshots import Snapshot, SnapshotWriter, load_current
from indexer.spaces import Submission
from service.runtime import Runtime
from service.settings import Settings
from tests.fakes import PALETTES, HistogramEmbedder, PixelEmbedder, drawing

PAUSE_LIMIT = 60  # seconds a paused save waits: reached only when the test is already failing


class PausedWrite:
    """The library's snapshot writer, whose first write waits until the test lets it go on;
    later writes go straight through."""

    def __init__(self, root: Path) -> None:
        self.write = SnapshotWriter(root)
        self.started = threading.Event()
        self.go = threading.Event()
        self.waited_out = False  # the test could not let it go on: something waited on it

    def __call__(self, generation: int, snapshot: Snapshot) -> Path:
        if not self.started.is_set():
            self.started.set()
            self.waited_out = not self.go.wait(PAUSE_LIMIT)
        return self.write(generation, snapshot)


def _sub(creator: str, seed: int) -> Submission:
    img = drawing(seed, PALETTES[creator])
    data = img.tobytes()
    return Submission(
        creator, f"{creator}/{seed}.png", img, data, hashlib.sha256(data).hexdigest(), "test"
    )


def _library(data_dir: Path, catalog: Catalog, paused: PausedWrite | None = None) -> Library:
    lib = Library(data_dir, catalog, PixelEmbedder(), HistogramEmbedder(), write_snapshot=paused)
    lib.open()
    return lib


def _ids(indexes: Library | Snapshot) -> dict[str, list[int]]:
    return {space: sorted(index.ids().tolist()) for space, index in indexes.indexes.items()}


def test_searches_and_changes_go_on_while_a_snapshot_is_written(
    settings: Settings, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    root = settings.data_dir / "index"
    paused = PausedWrite(root)
    lib = _library(settings.data_dir, runtime.library.catalog, paused)
    lib.register([_sub("alice", i) for i in range(6)])
    taken, taken_id = _ids(lib), lib.snapshot_id
    with ThreadPoolExecutor(max_workers=1) as pool:
        saving = pool.submit(lib.save)
        assert paused.started.wait(PAUSE_LIMIT)
        new = lib.register([_sub("bob", 500)])[0].work  # each returns while the save waits
        gone = lib.remove("alice/1.png")
        query = lib.embedders["content"].embed([drawing(500, PALETTES["bob"])])
        assert lib.search("content", query, 1)[0][0].work == new
        paused.go.set()
        folder = saving.result()
    assert not paused.waited_out  # the changes and the search above ran during the save
    snapshot = load_current(root)
    assert snapshot is not None and folder == root / taken_id
    assert snapshot.snapshot_id == taken_id and _ids(snapshot) == taken  # one moment: the copy's
    caplog.set_level(logging.INFO, logger="indexer.library")
    again = _library(settings.data_dir, lib.catalog)
    active = sorted(lib.catalog.active())
    assert new.pk in active and gone.pk not in active
    assert _ids(again) == {space: active for space in again.indexes}
    reconciled = [r.getMessage() for r in caplog.records if r.name == "indexer.library"]
    assert reconciled == [f"{s} index: dropped 1 orphans, restored 1" for s in again.indexes]


def test_a_save_overtaken_by_a_later_one_leaves_current_at_the_newest(
    settings: Settings, runtime: Runtime
) -> None:
    root = settings.data_dir / "index"
    paused = PausedWrite(root)
    lib = _library(settings.data_dir, runtime.library.catalog, paused)
    lib.register([_sub("carol", i) for i in range(3)])
    older = lib.snapshot_id
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(lib.save)  # takes its copy, then waits before writing it
        assert paused.started.wait(PAUSE_LIMIT)
        lib.register([_sub("dave", 9)])
        newest = lib.save()  # takes a later copy and writes it first
        paused.go.set()
        assert first.result() == newest  # the older copy was not written over it
    assert not paused.waited_out
    assert (root / "CURRENT").read_text() == lib.snapshot_id == newest.name != older
    assert not (root / older).exists()
    snapshot = load_current(root)
    assert snapshot is not None and _ids(snapshot) == _ids(lib)


def _library_on(data: Path, database: str) -> Library:
    catalog = Catalog(f"sqlite:///{data / database}")
    library = Library(data, catalog, PixelEmbedder(), HistogramEmbedder())
    library.open()
    return library


def test_a_snapshot_of_another_catalog_is_not_loaded(tmp_path: Path) -> None:
    """A fresh database behind the same data directory reuses the keys 1..n: the old
    snapshot's vectors must not answer for its works."""
    old = _library_on(tmp_path, "one.db")
    old.register([_sub("alice", i) for i in range(3)])
    old.save()
    new = _library_on(tmp_path, "two.db")
    new.register([_sub("bob", 100 + i) for i in range(3)])  # the same keys and generation
    restarted = _library_on(tmp_path, "two.db")
    query = restarted.embedders["content"].embed([drawing(0, PALETTES["alice"])])
    best = restarted.search("content", query, 1)[0][0]
    assert best.work.work_id.startswith("bob/") and best.score < 0.999
