"""First speed run (issue 3, item 10): images/s for register and scan, raw model throughput on
the same images for comparison, and single-image match latency in process and over HTTP.
Writes the `speed` section of benchmarks/RESULTS.md.

    python -m benchmarks.speed --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from fastapi.testclient import TestClient
from PIL import Image

from benchmarks.openclipart import build_style_dev
from benchmarks.report import machine, table, write_section
from models.images import load_image_file
from models.pdq import hash_batch
from service.api.app import create_app
from service.bulk import register_sources
from service.registration import WorkSource
from service.runtime import Runtime, build_runtime
from service.scan import run_scan
from service.settings import Settings


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ms = np.asarray(samples) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def raw_models(runtime: Runtime, paths: list[Path], batch: int) -> float:
    """Images/s of the models alone (content + style + PDQ) on pre-decoded images."""
    images = [Image.open(p).convert("RGB") for p in paths]
    started = time.perf_counter()
    for i in range(0, len(images), batch):
        chunk = images[i : i + batch]
        for embedder in runtime.library.embedders.values():
            embedder.embed(chunk)
        hash_batch(chunk)
    return len(images) / (time.perf_counter() - started)


def http_latency(runtime: Runtime, paths: list[Path]) -> list[float]:
    settings = runtime.settings
    times = []
    with TestClient(create_app(settings, runtime)) as client:
        for path in paths:
            body = path.read_bytes()
            started = time.perf_counter()
            resp = client.post(
                "/v1/match",
                files={"image": (path.name, io.BytesIO(body))},
                headers={"Authorization": f"Bearer {settings.admin_key}"},
            )
            times.append(time.perf_counter() - started)
            assert resp.status_code == 200, resp.text
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--latency-samples", type=int, default=50)
    args = parser.parse_args(argv)
    dev = build_style_dev(args.cache)
    scan_paths = [p for _, p in dev.queries + dev.impostors]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "data",
            admin_key="bench",  # type: ignore[call-arg]
            _env_file=None,
        )
        runtime = build_runtime(settings)
        for embedder in runtime.library.embedders.values():
            embedder.load()
        started = time.perf_counter()
        register_sources(
            runtime.library,
            runtime.settings,
            [WorkSource(c, f"{c}/{p.name}", p) for c, p in dev.gallery],
        )
        register_rate = len(dev.gallery) / (time.perf_counter() - started)
        started = time.perf_counter()
        run_scan(runtime, scan_paths, Path(tmp) / "scan.jsonl")
        scan_rate = len(scan_paths) / (time.perf_counter() - started)
        model_rate = raw_models(runtime, scan_paths, settings.batch_size)
        sample = scan_paths[: args.latency_samples]
        inproc = []
        for path in sample:
            started = time.perf_counter()
            runtime.matcher.match([load_image_file(path, settings.limits)], runtime.options())
            inproc.append(time.perf_counter() - started)
        http = http_latency(runtime, sample)
    data: dict[str, Any] = {
        "register_images_per_s": register_rate,
        "scan_images_per_s": scan_rate,
        "models_only_images_per_s": model_rate,
        "match_ms": percentiles(inproc),
        "http_match_ms": percentiles(http),
        "batch_size": settings.batch_size,
        "torch_threads": torch.get_num_threads(),
        "works": len(dev.gallery),
        "scanned": len(scan_paths),
        "machine": machine(),
    }
    write_section("speed", render(data), data)
    print(render(data))


def render(d: dict[str, Any]) -> str:
    return "\n\n".join(
        [
            "## Speed (default profile: 6 content views per query and per work)",
            f"{d['machine']}; torch threads {d['torch_threads']}, batch size {d['batch_size']}; "
            f"{d['works']} registered works (256 px clip art), {d['scanned']} images scanned.",
            table(
                ["measure", "value"],
                [
                    [
                        "register, images/s (decode + 3 models + catalog commit + index)",
                        d["register_images_per_s"],
                    ],
                    ["scan, images/s (decode + 3 models + search + JSONL)", d["scan_images_per_s"]],
                    ["models alone on the same images, images/s", d["models_only_images_per_s"]],
                    ["scan / models alone", d["scan_images_per_s"] / d["models_only_images_per_s"]],
                    [
                        "match latency in process, p50 / p95 ms",
                        f"{d['match_ms'][0]:.0f} / {d['match_ms'][1]:.0f}",
                    ],
                    [
                        "match latency over HTTP (TestClient), p50 / p95 ms",
                        f"{d['http_match_ms'][0]:.0f} / {d['http_match_ms'][1]:.0f}",
                    ],
                ],
            ),
        ]
    )


if __name__ == "__main__":
    main()
