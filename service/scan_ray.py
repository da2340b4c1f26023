"""The same batch scan on Ray Data (`styletrace scan --runner ray`), for buckets bigger than
one machine: paths become a dataset, a pool of actors (each holding the models and an open
library, as a local scan does) turns batches of paths into the same JSON lines, and the
driver appends them to the output as they arrive. Resuming works as for the local runner:
paths already in the output are left out; lines may come back in another order. Ray is
imported only here; the local runner needs none of it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.images import LoadedImage, load_image_file
from service.scan import ScanSummary, scan_lines, to_scan
from service.settings import Settings


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide: an existing cluster's address (None: a local Ray started here
    with `cpus` CPUs), the number of actors, and the CPUs each reserves (fractions allowed:
    on a small machine, whole CPUs per actor can starve Ray's own tasks and hang the pool)."""

    address: str | None = None
    actors: int = 1
    cpus_per_actor: float = 1.0
    cpus: int | None = None


class ScanActor:
    """One Ray actor: the models and the library, loaded once, scoring batches of paths."""

    def __init__(self, settings: dict[str, Any], top_k: int | None) -> None:
        from service.runtime import build_runtime

        self.runtime = build_runtime(Settings.model_validate(settings))
        self.opts = self.runtime.options(top_k)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        limits = self.runtime.settings.limits
        decoded: list[tuple[Path, LoadedImage | Exception]] = []
        for raw in batch["path"]:
            path = Path(str(raw))
            try:
                decoded.append((path, load_image_file(path, limits)))
            except Exception as exc:  # reported on its line, as the local runner does
                decoded.append((path, exc))
        lines = scan_lines(self.runtime, decoded, self.opts)
        return {
            "line": np.array([line.text for line in lines], dtype=object),
            "error": np.array([line.error for line in lines]),
        }


def run_scan_ray(
    settings: Settings,
    paths: Iterable[Path],
    out: Path,
    top_k: int | None = None,
    options: RayOptions = RayOptions(),
    on_batch: Callable[[int], None] | None = None,
) -> ScanSummary:
    """Match every image not yet in `out` on Ray, appending results as JSON lines; `on_batch`
    hears how many images each written batch held."""
    import ray

    pending, skipped = to_scan(paths, out)
    todo = [str(p) for p in pending]
    summary = ScanSummary(skipped=skipped)
    if not todo:
        return summary
    started = time.perf_counter()
    if not ray.is_initialized():
        ray.init(
            address=options.address,
            num_cpus=options.cpus if options.address is None else None,
            include_dashboard=False,
            log_to_driver=False,
        )
    dataset = ray.data.from_items([{"path": p} for p in todo])
    lines = dataset.map_batches(
        ScanActor,
        fn_constructor_args=(settings.model_dump(mode="json"), top_k),
        batch_size=settings.batch_size,
        concurrency=options.actors,
        num_cpus=options.cpus_per_actor,
        batch_format="numpy",
    )
    with out.open("a") as fh:
        for batch in lines.iter_batches(batch_size=settings.batch_size, batch_format="numpy"):
            fh.writelines(f"{line}\n" for line in batch["line"])
            fh.flush()
            summary.scanned += len(batch["line"])
            summary.errors += int(np.sum(batch["error"]))
            if on_batch is not None:
                on_batch(len(batch["line"]))
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.images_per_second = round(summary.scanned / max(summary.seconds, 1e-9), 3)
    return summary
