"""decoded_batches: input order kept, batch sizes respected, failures returned per item."""

import threading

from service.pipeline import decoded_batches


def test_order_batches_and_failures() -> None:
    def decode(i: int) -> int:
        if i % 7 == 3:
            raise ValueError(f"bad {i}")
        return i * 10

    batches = list(decoded_batches(range(23), decode, batch_size=5, workers=3))
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    flat = [pair for b in batches for pair in b]
    assert [i for i, _ in flat] == list(range(23))
    for i, value in flat:
        if i % 7 == 3:
            assert isinstance(value, ValueError) and str(value) == f"bad {i}"
        else:
            assert value == i * 10


def test_decoding_runs_ahead_on_worker_threads_but_stays_bounded() -> None:
    seen: list[str] = []
    started: list[int] = []

    def decode(i: int) -> int:
        seen.append(threading.current_thread().name)
        started.append(i)
        return i

    source = iter(range(100))
    gen = decoded_batches(source, decode, batch_size=4, workers=2)
    next(gen)
    assert max(started) < 4 + 2 * 4  # at most two batches in flight beyond the one yielded
    assert all(name.startswith("decode") for name in seen)
    assert sum(len(b) for b in gen) == 96
