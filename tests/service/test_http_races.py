"""Over HTTP, removals racing matches and registrations: a work whose removal was answered
before a match was sent never appears in that match, no request fails, and afterwards the
catalog and every index hold the same works."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from service.runtime import Runtime
from tests.service.http import AUTH, art


def test_removals_racing_matches_and_registrations_over_http(
    client: TestClient, runtime: Runtime
) -> None:
    works = [f"alice/r{i}.png" for i in range(12)]
    for i, work_id in enumerate(works):
        answer = client.post(
            "/v1/works",
            headers=AUTH,
            data={"creator_id": "alice", "work_id": work_id},
            files={"image": ("w.png", art("alice", 500 + i), "image/png")},
        )
        assert answer.status_code == 201, answer.text
    removed: set[str] = set()
    lock = threading.Lock()
    problems: list[str] = []
    stop = threading.Event()

    def remover() -> None:
        for work_id in works[:8]:
            answer = client.delete(f"/v1/works/{work_id}", headers=AUTH)
            if answer.status_code != 200:
                problems.append(f"remove {work_id}: {answer.status_code}")
            with lock:
                removed.add(work_id)
        stop.set()

    def registrar() -> None:
        for i in range(6):
            answer = client.post(
                "/v1/works",
                headers=AUTH,
                data={"creator_id": "bob", "work_id": f"bob/n{i}.png"},
                files={"image": ("w.png", art("bob", 900 + i), "image/png")},
            )
            if answer.status_code != 201:
                problems.append(f"register bob/n{i}.png: {answer.status_code}")

    def matcher(seed: int) -> None:
        body = art("alice", 500 + seed)
        while not stop.is_set():
            with lock:
                gone_before = set(removed)
            answer = client.post(
                "/v1/match",
                headers=AUTH,
                data={"top_k": "20"},
                files={"image": ("q.png", body, "image/png")},
            )
            if answer.status_code != 200:
                problems.append(f"match: {answer.status_code}")
                return
            result = answer.json()
            seen = {m["work_id"] for kind in ("content", "style") for m in result[kind]["matches"]}
            problems.extend(f"{w} seen after its removal" for w in seen & gone_before)

    threads = [threading.Thread(target=matcher, args=(i,)) for i in (0, 3, 6)]
    threads += [threading.Thread(target=remover), threading.Thread(target=registrar)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert problems == []
    library = runtime.library
    active = {w.work_id: w.pk for w in library.catalog.active().values()}
    assert {w for w in active if w.startswith("alice/r")} == set(works[8:])
    assert {w for w in active if w.startswith("bob/n")} == {f"bob/n{i}.png" for i in range(6)}
    for space, index in library.indexes.items():
        assert set(index.ids().tolist()) == set(active.values()), space
