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

from benchmarks.openclipart import build_style_dev
from benchmarks.report import machine, table, write_section
from models.images import load_image_file
from models.stages import StageTotals, recording
from models.views import VIEWS
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


def forward_passes(runtime: Runtime, paths: list[Path], batch: int) -> float:
    """Images/s of the neural networks' forward passes alone, fed what a scan feeds them
    (every content view of each image, the whole image for style) in the same batches:
    images decoded and views cut beforehand, and preprocessing timed apart and left out."""
    images = [load_image_file(p, runtime.settings.limits).image for p in paths]
    scheme = VIEWS[runtime.matcher.views]
    totals = StageTotals()
    with recording(totals):
        for i in range(0, len(images), batch):
            chunk = images[i : i + batch]
            views = [v for img in chunk for v in scheme.query(img)]
            runtime.library.embedders["content"].embed(views)
            runtime.library.embedders["style"].embed(chunk)
    return len(images) / totals.total("model:")


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
        scan = run_scan(runtime, scan_paths, Path(tmp) / "scan.jsonl")
        model_rate = forward_passes(runtime, scan_paths, settings.batch_size)
        sample = scan_paths[: args.latency_samples]
        inproc = []
        for path in sample:
            started = time.perf_counter()
            runtime.matcher.match([load_image_file(path, settings.limits)], runtime.options())
            inproc.append(time.perf_counter() - started)
        http = http_latency(runtime, sample)
    data: dict[str, Any] = {
        "register_images_per_s": register_rate,
        "scan_images_per_s": scan.images_per_second,
        "scan_seconds": scan.seconds,
        "scan_stage_seconds": scan.stage_seconds,
        "forward_only_images_per_s": model_rate,
        "match_ms": percentiles(inproc),
        "http_match_ms": percentiles(http),
        "batch_size": settings.batch_size,
        "decode_workers": settings.decode_workers,
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
                    ["scan, images/s (end to end, JSONL written)", d["scan_images_per_s"]],
                    [
                        "forward passes alone on the same inputs and batches, images/s",
                        d["forward_only_images_per_s"],
                    ],
                    [
                        "scan / forward passes alone",
                        d["scan_images_per_s"] / d["forward_only_images_per_s"],
                    ],
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
            "Where a scan's time goes, seconds per image by stage (decoding runs in "
            f"{d['decode_workers']} threads beside the models, so stages can add up to more "
            "than the wall time):",
            table(
                ["stage", "ms per image", "share of stage time"],
                stage_rows(d["scan_stage_seconds"], d["scanned"]),
            ),
        ]
    )


def stage_rows(seconds: dict[str, float], images: int) -> list[list[Any]]:
    """Stages from the slowest, as ms per image and share of all stage time."""
    total = sum(seconds.values()) or 1.0
    return [
        [name, f"{1000 * s / max(images, 1):.1f}", f"{s / total:.1%}"]
        for name, s in sorted(seconds.items(), key=lambda kv: -kv[1])
    ]


if __name__ == "__main__":
    main()
