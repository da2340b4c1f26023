"""Fit a profile's calibration from the openclipart dev set: `make calibrate`.

The background is drawn from all three dev sets, never from their queries, impostors or
held-out sources: the openclipart gallery split (works of registered artists), a few gallery
glyphs of each registered font family, and the copy set's calibration sources and
distractors (photos, stamps, drawings), grouped by artist, family or folder. The sets draw
on the same openclipart packages, so a gallery drawing that the copy set evaluates (a
held-out source, distractor or recolour, or a PDQ near duplicate of one) is left out, as is
a copy-split drawing that the style set scores (a query or impostor); a drawing in both the
gallery and the copy split is read once, grouped under its creator as in the gallery.
Writes models/calibration/<profile>.json; the heads it calibrates come first, from
`make train-style` and `make train-content`.

    python -m benchmarks.calibrate --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from benchmarks.copyset import CopyItem, build_copy_dev, clipart_item_id
from benchmarks.fonts import build_font_dev, rgb_image
from benchmarks.openclipart import build_style_dev
from models.pdq import hash_batch, near_duplicate_of
from models.registry import CALIBRATION_DIR, load_profile
from service.calibrate import CONTENT_PARTS, NEIGHBOURHOOD_K, fit_calibration


def background(cache: Path, glyphs_per_family: int) -> list[tuple[str, Path]]:
    """(group, path) of every calibration image: `clip:<artist>` for openclipart drawings
    from either set, `font:<family>`, `copy:<folder>` for the copy set's other images."""
    copy, style = build_copy_dev(cache), build_style_dev(cache)
    root = style.manifest.parent  # openclipart drawings lie at their work id below it
    scored = {work_id(p, root) for _, p in style.queries + style.impostors}
    evaluated = copy.references + copy.distractors + copy.recolours
    calibration = [i for i in copy.calibration + copy.calibration_distractors if i.id not in scored]
    held = {i.id for i in evaluated + calibration}  # the copy split brings its own drawings
    gallery = without_ids([(f"clip:{c}", p) for c, p in style.gallery], held, root)
    pairs = not_evaluated(gallery, hash_batch([rgb_image(i.path) for i in evaluated]))
    taken: dict[str, int] = defaultdict(int)
    for glyph in build_font_dev(cache).gallery:
        if taken[glyph.family] < glyphs_per_family:
            taken[glyph.family] += 1
            pairs.append((f"font:{glyph.family}", glyph.path))
    pairs += [(copy_group(i), i.path) for i in calibration]
    return pairs


def work_id(path: Path, root: Path) -> str:
    """The copy set's id of an openclipart drawing lying at its work id below `root`."""
    return clipart_item_id(path.relative_to(root).as_posix())


def without_ids(
    pairs: Sequence[tuple[str, Path]], ids: set[str], root: Path
) -> list[tuple[str, Path]]:
    """The (group, path) pairs of drawings whose work id is not in `ids`."""
    return [(g, p) for g, p in pairs if work_id(p, root) not in ids]


def copy_group(item: CopyItem) -> str:
    """The background group of a copy-set image: an openclipart drawing's is its creator's,
    as in the gallery (else pairs of one artist's works count as non-matches in the content,
    PDQ and style nulls); other images are grouped by folder."""
    return f"clip:{item.group}" if item.domain == "openclipart" else f"copy:{item.group}"


def not_evaluated(
    pairs: Sequence[tuple[str, Path]], evaluated: NDArray[np.uint8]
) -> list[tuple[str, Path]]:
    """The (group, path) pairs whose image is no PDQ near duplicate (under any flip or quarter
    turn) of an evaluated image's hash in `evaluated`: a null must not be measured on the
    works and non-copies the benchmark scores. PDQ misses some renderings of one plain
    drawing at two sizes (flags: up to 78 bits), hence the ids first."""
    return [(g, p) for g, p in pairs if near_duplicate_of(rgb_image(p), evaluated) is None]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--profile", default="default")
    parser.add_argument("--glyphs-per-family", type=int, default=8)
    parser.add_argument(
        "--content-parts",
        type=int,
        default=CONTENT_PARTS,
        help="content nulls, split by the neighbourhood (2: the candidate measured in RESULTS)",
    )
    parser.add_argument("--neighbourhood-k", type=int, default=NEIGHBOURHOOD_K)
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
        source=f"openclipart gallery less the copy set's evaluated drawings, font gallery "
        f"glyphs, copy-set calibration split less the style set's queries and impostors "
        f"({len(images)} images, {len(groups)} groups)",
        content_views=profile.content_views,
        k=args.neighbourhood_k,
        parts=args.content_parts,
    )
    path = CALIBRATION_DIR / f"{profile.name}.json"
    cal.save(path)
    elapsed = time.perf_counter() - started
    print(f"calibration {path}: {cal.info} in {elapsed:.0f}s")
    named = [(f"content {p}", null) for p, null in enumerate(cal.content.nulls)]
    for name, null in [*named, ("pdq", cal.pdq), ("style m=3", cal.style[2])]:
        print(
            f"  {name}: n={null.n} match>={null.threshold(0.001):.4f} "
            f"possible>={null.threshold(0.01):.4f}"
        )


if __name__ == "__main__":
    main()
