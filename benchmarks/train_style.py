"""Fit the style head of a profile: `make train-style`.

The head is a linear projection (models/projection.py: WCCN then PCA) over the raw style
statistics, fitted on the TRAIN splits only: openclipart creators with too few works to be
evaluated, and the font families reserved for training. The creators and families of the
accuracy benchmark are never seen here. Writes the profile's style projection .npz; run
`make calibrate` afterwards, since the calibration is versioned with the model id.

    python -m benchmarks.train_style --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from PIL import Image

from benchmarks.fonts import build_font_dev
from benchmarks.openclipart import build_style_dev
from models.projection import fit_wccn, save_projection
from models.registry import PROFILE_DIR, create_embedder, load_profile
from service.calibrate import embed_all

MAX_HEAD_BYTES = 20 * 1024 * 1024


def training_set(cache: Path, fonts_per_family: int) -> tuple[list[str], list[Path]]:
    """(style label, image path) of every training image: openclipart train creators and
    `fonts_per_family` glyphs of each training font family (labels prefixed by domain)."""
    clip = build_style_dev(cache)
    fonts = build_font_dev(cache)
    labels = [f"clip:{c}" for c, _ in clip.train]
    paths = [p for _, p in clip.train]
    seen: dict[str, int] = {}
    for glyph in fonts.train:
        if seen.get(glyph.family, 0) < fonts_per_family:
            seen[glyph.family] = seen.get(glyph.family, 0) + 1
            labels.append(f"font:{glyph.family}")
            paths.append(glyph.path)
    return labels, paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--profile", default="default")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--shrinkage", type=float, default=0.2)
    parser.add_argument("--fonts-per-family", type=int, default=24)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    spec = load_profile(args.profile).style
    if not spec.get("projection"):
        parser.error(f"profile {args.profile!r} has no style projection to fit")
    labels, paths = training_set(args.cache, args.fonts_per_family)
    base = create_embedder({k: v for k, v in spec.items() if k != "projection"})
    raw = embed_all(base, [Image.open(p).convert("RGB") for p in paths])
    mean, matrix = fit_wccn(raw, labels, args.dim, args.shrinkage)
    out = PROFILE_DIR / spec["projection"]
    save_projection(out, mean, matrix)
    size = out.stat().st_size
    if size > MAX_HEAD_BYTES:
        raise SystemExit(f"{out}: {size} bytes, over the {MAX_HEAD_BYTES} limit for a head")
    print(
        f"style head {out} ({size / 1e6:.1f} MB, {raw.shape[1]} -> {args.dim}) from "
        f"{len(paths)} images of {len(set(labels))} styles in {time.perf_counter() - started:.0f}s"
    )


if __name__ == "__main__":
    main()
