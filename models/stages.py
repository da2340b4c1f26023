"""Where the time goes: code wraps its named stages (decode, preprocess, a model's forward
pass, search, verification) in `stage(name)`, and whoever wants the durations installs a
recorder for the current context: a scan's per-stage totals, the API's /metrics histogram.
A stage's time excludes the stages nested in it, so stage times add up without double
counting. Without a recorder a stage costs two clock reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Recorder = Callable[[str, float], None]

_recorder: ContextVar[Recorder | None] = ContextVar("styletrace_stage_recorder", default=None)
_nested: ContextVar[list[float] | None] = ContextVar("styletrace_stage_nested", default=None)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the enclosed block as `name`, less its nested stages, for the current recorder."""
    nested = [0.0]
    token = _nested.set(nested)
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        _nested.reset(token)
        outer = _nested.get()
        if outer is not None:
            outer[0] += elapsed
        record = _recorder.get()
        if record is not None:
            record(name, elapsed - nested[0])


@contextmanager
def recording(record: Recorder) -> Iterator[None]:
    """Send the stages timed in this context (and in threads started with a copy of it) to
    `record`."""
    token = _recorder.set(record)
    try:
        yield
    finally:
        _recorder.reset(token)


def current() -> Recorder | None:
    """The recorder of this context: for handing to worker threads that do not copy it."""
    return _recorder.get()


class StageTotals:
    """Seconds and calls per stage, summed over threads (a Recorder)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def __call__(self, name: str, seconds: float) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
            self.calls[name] = self.calls.get(name, 0) + 1

    def total(self, prefix: str = "") -> float:
        """Seconds summed over the stages whose names start with `prefix`."""
        return sum(s for name, s in self.seconds.items() if name.startswith(prefix))
