"""Fit a profile's calibration from the openclipart dev set: `make calibrate`.

The background is drawn from all three dev sets, never from their queries, impostors or
held-out sources: the openclipart gallery split (works of registered artists), a few gallery
glyphs of each registered font family, and the copy set's calibration sources and
distractors (photos, stamps, drawings), grouped by artist, family or folder. Writes
models/calibration/<profile>.json; the heads it calibrates come first, from
`make train-style` and `make train-content`.

    python -m benchmarks.calibrate --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

from PIL import Image

from benchmarks.copyset import build_copy_dev
from benchmarks.fonts import build_font_dev
from benchmarks.openclipart import build_style_dev
from models.registry import CALIBRATION_DIR, load_profile
from service.calibrate import fit_calibration


def background(cache: Path, glyphs_per_family: int) -> list[tuple[str, Path]]:
    """(group, path) of every calibration image, groups prefixed by dev set."""
    pairs = [(f"clip:{c}", p) for c, p in build_style_dev(cache).gallery]
    taken: dict[str, int] = defaultdict(int)
    for glyph in build_font_dev(cache).gallery:
        if taken[glyph.family] < glyphs_per_family:
            taken[glyph.family] += 1
            pairs.append((f"font:{glyph.family}", glyph.path))
    copy = build_copy_dev(cache)
    pairs += [(f"copy:{i.group}", i.path) for i in copy.calibration + copy.calibration_distractors]
    return pairs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--profile", default="default")
    parser.add_argument("--glyphs-per-family", type=int, default=8)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    profile = load_profile(args.profile)
    groups: dict[str, list[Image.Image]] = defaultdict(list)
    for label, path in background(args.cache, args.glyphs_per_family):
        groups[label].append(Image.open(path).convert("RGB"))
    images = [img for imgs in groups.values() for img in imgs]
    embedders = [profile.embedder("content"), profile.embedder("style")]
    cal = fit_calibration(
        profile.name,
        embedders[0],
        embedders[1],
        groups,
        source=f"openclipart gallery, font gallery glyphs, copy-set calibration split "
        f"({len(images)} images, {len(groups)} groups)",
        content_views=profile.content_views,
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
