"""Decoding ahead of inference: a bounded thread pool reads and decodes the next images
while the models run on the current batch. Per-item failures are returned, never raised."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def decoded_batches(
    items: Iterable[T], decode: Callable[[T], R], batch_size: int, workers: int
) -> Iterator[list[tuple[T, R | Exception]]]:
    """Yield batches of (item, decoded value or the exception it raised), in input order.
    At most two batches are decoding or waiting at any time, so memory stays bounded."""
    limit = 2 * batch_size

    def safe(item: T) -> R | Exception:
        try:
            return decode(item)
        except Exception as exc:  # reported per item by the caller
            return exc

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        pending: deque[tuple[T, Future[R | Exception]]] = deque()
        batch: list[tuple[T, R | Exception]] = []
        source = iter(items)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < limit:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending.append((item, pool.submit(safe, item)))
            if not pending:
                break
            item, future = pending.popleft()
            batch.append((item, future.result()))
            if len(batch) == batch_size:
                yield batch
                batch = []
        if batch:
            yield batch
