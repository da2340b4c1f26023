"""Concurrent registrations, removals and matches keep catalog and indexes consistent, and a
removal acknowledged before a match starts never shows up in that match; a rebuild into an
IVF lets them go on while it runs and misses none of their changes."""

import hashlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from indexer.catalog import Work
from indexer.library import WORK_CROPS, Library
from indexer.sizing import rebuilt
from indexer.spaces import Submission
from indexer.vectors import FaissIndex, FaissIvfIndex, Ids, VectorIndex
from models.images import LoadedImage
from service.runtime import Runtime, open_library
from service.settings import Settings
from tests.fakes import PALETTES, HistogramEmbedder, PixelEmbedder, drawing

PAUSE_LIMIT = 60  # seconds a paused rebuild waits: reached only when the test is already failing


def _sub(creator: str, seed: int) -> Submission:
    img = drawing(seed, PALETTES[creator])
    data = img.tobytes()
    return Submission(
        creator, f"{creator}/{seed}.png", img, data, hashlib.sha256(data).hexdigest(), "test"
    )


def test_removal_racing_matches_is_never_seen_after_acknowledgement(runtime: Runtime) -> None:
    lib = runtime.library
    subs = [_sub("alice", i) for i in range(16)]
    lib.register(subs)
    removed: set[str] = set()
    lock = threading.Lock()
    violations: list[str] = []
    stop = threading.Event()

    def remover() -> None:
        for sub in subs[:12]:
            lib.remove(sub.work_id)
            with lock:
                removed.add(sub.work_id)
        stop.set()

    def matcher(seed: int) -> None:
        query = LoadedImage(subs[seed].image, "q", 96, 96, "PNG")
        while not stop.is_set():
            with lock:
                gone_before = set(removed)
            try:
                result = runtime.matcher.match([query], runtime.options(16))[0]
            except Exception as exc:  # a crash in a racing match is a failure too
                violations.append(repr(exc))
                return
            seen = {m.work_id for m in result.content.matches + result.style.matches}
            violations.extend(seen & gone_before)

    threads = [threading.Thread(target=matcher, args=(i,)) for i in range(3)]
    threads.append(threading.Thread(target=remover))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert violations == []
    active = {w.work_id for w in lib.catalog.works()}
    assert active == {s.work_id for s in subs[12:]}
    assert all(len(set(index.ids().tolist())) == 4 for index in lib.indexes.values())


def test_concurrent_registrations_of_the_same_and_different_works(runtime: Runtime) -> None:
    lib = runtime.library
    same = _sub("bob", 1)
    others = [_sub("carol", i) for i in range(8)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        twins = list(pool.map(lambda _: lib.register([same])[0], range(6)))
        list(pool.map(lambda s: lib.register([s]), others))
    assert sum(r.created for r in twins) == 1
    assert len({r.work.pk for r in twins}) == 1
    assert len(lib.catalog.works()) == 9
    assert all(
        sorted(set(index.ids().tolist())) == sorted(lib.catalog.active())
        for index in lib.indexes.values()
    )


def test_a_second_process_changes_are_picked_up_by_the_next_match(runtime: Runtime) -> None:
    from service.runtime import open_library
    from tests.fakes import HistogramEmbedder, PixelEmbedder

    runtime.library.register([_sub("dave", 1), _sub("dave", 2)])
    other = open_library(runtime.settings, PixelEmbedder(), HistogramEmbedder())  # "the CLI"
    other.remove("dave/1.png")
    other.register([_sub("erin", 5)])
    query = LoadedImage(drawing(1, PALETTES["dave"]), "q", 96, 96, "PNG")
    result = runtime.matcher.match([query], runtime.options(5))[0]
    assert "dave/1.png" not in {m.work_id for m in result.content.matches}
    assert len(runtime.library) == 2


def _found(library: Library, creator: str, seed: int) -> set[str]:
    query = library.embedders["content"].embed([drawing(seed, PALETTES[creator])])
    return {h.work.work_id for h in library.search("content", query, 10)[0]}


def test_another_process_changes_survive_a_change_of_this_one(runtime: Runtime) -> None:
    """The CLI removes and registers; the server then registers a work of its own before its
    next refresh. The server's commit must not count the CLI's as already indexed."""
    server = runtime.library
    server.register([_sub("dave", 1), _sub("dave", 2)])
    cli = open_library(runtime.settings, PixelEmbedder(), HistogramEmbedder())
    cli.remove("dave/1.png")
    cli.register([_sub("erin", 7)])
    server.register([_sub("frank", 3)])
    server.remove("dave/2.png")
    # what a removal receipt cites: a snapshot that holds this removal (QA: it cited one
    # from before the CLI's commits, which still held the removed work)
    assert server.snapshot_id == f"g{server.catalog.generation():08d}"
    server.refresh()
    assert "dave/1.png" not in _found(server, "dave", 1)
    assert "erin/7.png" in _found(server, "erin", 7)
    assert set(server.catalog.active()) == set(server._works)  # exactly the active works


def test_a_commit_during_a_reconciliation_is_picked_up_by_the_next(runtime: Runtime) -> None:
    """Another process removes a work just after the server read the active works: the
    server must not record the newer generation as reconciled."""
    server = runtime.library
    server.register([_sub("dave", 1), _sub("dave", 2)])
    cli = open_library(runtime.settings, PixelEmbedder(), HistogramEmbedder())
    cli.register([_sub("erin", 7)])  # the server's next refresh reconciles
    read_active = server.catalog.active

    def active_then_the_cli_commits() -> dict[int, Work]:
        works = read_active()
        if not removed:
            removed.append(cli.remove("dave/1.png"))
        return works

    removed: list[Work] = []
    server.catalog.active = active_then_the_cli_commits  # type: ignore[method-assign]
    server.refresh()
    assert "dave/1.png" in _found(server, "dave", 1)  # the read before the removal
    server.refresh()
    assert removed and "dave/1.png" not in _found(server, "dave", 1)


class PausedRebuild:
    """The library's rebuild, stopped part-way until the test lets it go on."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.go = threading.Event()
        self.waited_out = False  # the test could not let it go on: something waited on it

    def __call__(self, ids: Ids, vectors: np.ndarray, to_ivf: bool) -> VectorIndex:
        self.started.set()
        self.waited_out = not self.go.wait(PAUSE_LIMIT)
        return rebuilt(ids, vectors, to_ivf)


def test_searches_and_changes_go_on_while_an_ivf_is_built(
    settings: Settings, runtime: Runtime
) -> None:
    paused = PausedRebuild()
    lib = Library(
        settings.data_dir,
        runtime.library.catalog,
        PixelEmbedder(),
        HistogramEmbedder(),
        "crops5-both",
        ivf_from=100,
        rebuild=paused,
    )
    lib.open()
    lib.register([_sub("alice", i) for i in range(40)])  # 40 works x 5 crops: past ivf_from

    def crop_of(image: Image.Image) -> np.ndarray:  # a stored crop vector of the work
        views = lib.spaces[WORK_CROPS].views
        assert views is not None
        return lib.embedders["content"].embed(views(image)[:1])

    def found(image: Image.Image) -> list[str]:
        return [h.work.work_id for h in lib.search(WORK_CROPS, crop_of(image), 10)[0]]

    removed, kept = drawing(7, PALETTES["alice"]), drawing(500, PALETTES["bob"])
    with ThreadPoolExecutor(max_workers=1) as pool:
        saving = pool.submit(lib.save)
        assert paused.started.wait(PAUSE_LIMIT)
        lib.register([_sub("bob", 500), _sub("bob", 501)])  # registered during the build
        lib.remove("alice/7.png")  # copied into the build, then removed
        lib.remove("bob/501.png")  # neither copied nor still there
        assert isinstance(lib.indexes[WORK_CROPS], FaissIndex)  # the build has not finished
        assert found(kept)[0] == "bob/500.png"
        assert "alice/7.png" not in found(removed)
        paused.go.set()
        saving.result()
    assert not paused.waited_out  # the registrations and searches above ran during the build
    crops = lib.indexes[WORK_CROPS]
    assert isinstance(crops, FaissIvfIndex)
    assert Counter(crops.ids().tolist()) == {pk: 5 for pk in lib.catalog.active()}
    assert found(kept)[0] == "bob/500.png"
    assert "alice/7.png" not in found(removed)
