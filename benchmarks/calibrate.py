"""Fit the default profile's projections and calibration from the openclipart dev set.

Only the GALLERY split is used (works of registered creators), so the accuracy benchmark's
queries and impostor creators stay unseen. Writes models/profiles/<projection>.npz (the
corpus mean: centring) and models/calibration/<profile>.json.

    python -m benchmarks.calibrate --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.openclipart import build_style_dev
from models.embedder import Embedder
from models.projection import save_projection
from models.registry import CALIBRATION_DIR, PROFILE_DIR, create_embedder, load_profile
from service.calibrate import embed_all, fit_calibration


def fit_centre(spec: dict[str, Any], images: list[Image.Image]) -> Embedder:
    """Fit the corpus mean of the base model's vectors, save it as the spec's projection, and
    return the projected embedder."""
    base_spec = {k: v for k, v in spec.items() if k != "projection"}
    raw = embed_all(create_embedder(base_spec), images)
    mean = raw.mean(axis=0)
    save_projection(PROFILE_DIR / spec["projection"], mean, np.eye(len(mean), dtype=np.float32))
    return create_embedder(spec)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--profile", default="default")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    dev = build_style_dev(args.cache)
    profile = load_profile(args.profile)
    groups: dict[str, list[Image.Image]] = defaultdict(list)
    for creator, path in dev.gallery:
        groups[creator].append(Image.open(path).convert("RGB"))
    images = [img for imgs in groups.values() for img in imgs]
    embedders = [
        fit_centre(spec, images) if spec.get("projection") else create_embedder(spec)
        for spec in (profile.content, profile.style)
    ]
    cal = fit_calibration(
        profile.name,
        embedders[0],
        embedders[1],
        groups,
        source=f"openclipart gallery split ({len(images)} images)",
    )
    path = CALIBRATION_DIR / f"{profile.name}.json"
    cal.save(path)
    elapsed = time.perf_counter() - started
    print(f"calibration {path}: {cal.info} in {elapsed:.0f}s")
    for name, null in (("content", cal.content), ("pdq", cal.pdq), ("style m=3", cal.style[2])):
        print(
            f"  {name}: n={null.n} match>={null.threshold(0.001):.4f} "
            f"possible>={null.threshold(0.01):.4f}"
        )


if __name__ == "__main__":
    main()
