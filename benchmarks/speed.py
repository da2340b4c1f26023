"""First speed run (issue 3, item 10): images/s for register and scan, raw model throughput on
the same images for comparison, and single-image match latency in process and over HTTP.
Writes the `speed` section of benchmarks/PERF.md.

    python -m benchmarks.speed --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from fastapi.testclient import TestClient
from PIL import Image

from benchmarks.openclipart import build_style_dev
from benchmarks.report import PERF, machine, table, write_section
from models.images import load_image_file
from models.stages import StageTotals, recording
from models.views import VIEWS, embed_once
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


def forward_seconds(runtime: Runtime, paths: list[Path], batch: int) -> float:
    """Seconds of the neural networks' forward passes alone, fed what a scan feeds them
    (every content view of each image, the whole image for style) in the same batches:
    images decoded and views cut beforehand, and preprocessing timed apart and left out."""
    images = [load_image_file(p, runtime.settings.limits).image for p in paths]
    scheme = VIEWS[runtime.matcher.views]
    totals = StageTotals()
    with recording(totals):
        for i in range(0, len(images), batch):
            chunk = images[i : i + batch]
            views = [v for img in chunk for v in scheme.embedded(img)]
            embed_once(runtime.library.embedders["content"].embed, views)
            runtime.library.embedders["style"].embed(chunk)
    return totals.total("model:")


def scan_against_forward(
    runtime: Runtime, paths: list[Path], out: Path, chunk: int = 64
) -> tuple[float, float, dict[str, float]]:
    """Scan seconds, forward-pass seconds and the scan's seconds per stage, measured chunk by
    chunk in turn, so that anything else loading the machine weighs on both alike."""
    scan_s, forward_s = 0.0, 0.0
    stages: dict[str, float] = {}
    batch = runtime.settings.batch_size
    for start in range(0, len(paths), chunk):
        part = paths[start : start + chunk]
        forward_s += forward_seconds(runtime, part, batch)
        summary = run_scan(runtime, part, out)
        scan_s += summary.seconds
        for name, seconds in summary.stage_seconds.items():
            stages[name] = stages.get(name, 0.0) + seconds
    return scan_s, forward_s, stages


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


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the machine was besides this run."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


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
        scan_s, forward_s, stages = scan_against_forward(
            runtime, scan_paths, Path(tmp) / "scan.jsonl"
        )
        sample = scan_paths[: args.latency_samples]
        inproc = []
        for path in sample:
            started = time.perf_counter()
            runtime.matcher.match([load_image_file(path, settings.limits)], runtime.options())
            inproc.append(time.perf_counter() - started)
        http = http_latency(runtime, sample)
    scheme, blank = VIEWS[runtime.matcher.views], Image.new("RGB", (64, 64))
    paired = scheme.paired
    scanned = [load_image_file(p, settings.limits).image for p in scan_paths] if paired else []
    data: dict[str, Any] = {
        "content_views": runtime.matcher.views,
        "query_content_images": len(scheme.embedded(blank)),
        "work_content_images": 1 + len(scheme.work(blank)) + (paired is not None),
        "paired_as_is": sum(paired(img) is img for img in scanned) if paired else None,
        "register_images_per_s": register_rate,
        "scan_images_per_s": len(scan_paths) / scan_s,
        "scan_seconds": scan_s,
        "scan_stage_seconds": stages,
        "forward_only_images_per_s": len(scan_paths) / forward_s,
        "match_ms": percentiles(inproc),
        "http_match_ms": percentiles(http),
        "batch_size": settings.batch_size,
        "decode_workers": settings.decode_workers,
        "torch_threads": torch.get_num_threads(),
        "works": len(dev.gallery),
        "scanned": len(scan_paths),
        "machine": machine(),
        "load_average": load_average(),
    }
    write_section("speed", render(data), data, PERF)
    print(render(data))


def reused(d: dict[str, Any]) -> str:
    """How often the paired view left a scanned image as it is (its vector then reused)."""
    if d.get("paired_as_is") is None:
        return ""
    return (
        f"; one fewer where the paired view leaves the image as it is: "
        f"{d['paired_as_is']} of the {d['scanned']} scanned"
    )


def render(d: dict[str, Any]) -> str:
    return "\n\n".join(
        [
            f"## Speed (default profile, views `{d['content_views']}`: "
            f"{d['query_content_images']} content images embedded per query, "
            f"{d['work_content_images']} per registered work{reused(d)})",
            f"{d['machine']}; torch threads {d['torch_threads']}, batch size {d['batch_size']}; "
            f"{d['works']} registered works (256 px clip art), {d['scanned']} images scanned; "
            f"load average at the end {d['load_average']}. The scan and the forward passes "
            "alone are measured 64 images at a time in turn.",
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
