"""Concurrent registrations, removals and matches keep catalog and indexes consistent, and a
removal acknowledged before a match starts never shows up in that match."""

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

from indexer.library import Submission
from models.images import LoadedImage
from service.runtime import Runtime
from tests.fakes import PALETTES, drawing


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
