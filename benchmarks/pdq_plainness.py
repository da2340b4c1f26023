"""Where PDQ distances just past its match distance (31) come from: the calibration
background's distances between distinct works, by how plain the query image is and by
whether the two works share a creator or folder. It measures why matching counts PDQ only
within 31 (benchmarks/RESULTS.md, section pdq_plainness).

    python -m benchmarks.pdq_plainness --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from benchmarks.calibrate import background
from benchmarks.report import machine, table, write_section
from models.pdq import MATCH_DISTANCE, dihedral_distances, hash_batch
from service.calibrate import distinct

SIDE = 64  # plainness is measured on a SIDE x SIDE grey thumbnail, the size PDQ hashes
FLAT_STEP = 2  # a pixel is flat when its right and lower steps sum to less than this
EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # plainness buckets
RATE_CUT = 44  # the per-pair rate is given within this: the blurred flag's distance to its source
CUTS = (MATCH_DISTANCE, 36, RATE_CUT, 52, 60)


def flat_share(img: Image.Image) -> float:
    """Share of an image's pixels in flat areas (0 = texture everywhere, 1 = one colour):
    flags, glyphs and clip art on a plain ground are mostly flat; photos and textures are not."""
    grey = np.asarray(img.convert("L").resize((SIDE, SIDE), Image.Resampling.BILINEAR), np.int16)
    steps = np.abs(np.diff(grey, axis=1))[:-1, :] + np.abs(np.diff(grey, axis=0))[:, :-1]
    return float((steps < FLAT_STEP).mean())


def pair_distances(images: Sequence[Image.Image]) -> NDArray[np.int64]:
    """[n, n]: PDQ distance of image i as a query (its 8 dihedral hashes, as matching
    compares) to image j as a registered work."""
    codes = hash_batch(images)
    return np.stack([dihedral_distances(img, codes) for img in images])


def bucket_rows(
    distances: NDArray[np.int64],
    plainness: NDArray[np.floating],
    groups: Sequence[str],
    same_group: bool,
) -> list[list[object]]:
    """[bucket, queries, pairs, pairs within each of CUTS, rate within RATE_CUT per pair] over the
    pairs of distinct images in the same group (or in different groups), by the plainness of
    the query image."""
    labels = np.asarray(groups)
    pairs = labels[:, None] == labels[None, :]
    if not same_group:
        pairs = ~pairs
    np.fill_diagonal(pairs, False)
    rows: list[list[object]] = []
    for lo, hi in itertools.pairwise(EDGES):
        queries = (plainness >= lo) & ((plainness < hi) | (hi == EDGES[-1]))
        d = distances[queries][pairs[queries]]
        within = [int((d <= cut).sum()) for cut in CUTS]
        rate = f"{within[CUTS.index(RATE_CUT)] / len(d):.1e}" if len(d) else "-"
        rows.append([f"{lo:.1f}-{hi:.1f}", int(queries.sum()), len(d), *within, rate])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--glyphs-per-family", type=int, default=8)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pairs = background(args.cache, args.glyphs_per_family)
    images = [Image.open(path).convert("RGB") for _, path in pairs]
    keep = distinct(images)
    images = [images[i] for i in keep]
    groups = [pairs[i][0] for i in keep]
    distances = pair_distances(images)
    plainness = np.array([flat_share(img) for img in images])
    headers = [
        "query flat share",
        "queries",
        "pairs",
        *(f"<= {c}" for c in CUTS),
        f"rate <= {RATE_CUT}",
    ]
    other = bucket_rows(distances, plainness, groups, same_group=False)
    same = bucket_rows(distances, plainness, groups, same_group=True)
    elapsed = time.perf_counter() - started
    markdown = "\n\n".join(
        [
            "### PDQ distances between distinct works, by how plain the query is",
            f"The calibration background ({len(images)} images after dropping near "
            f"duplicates, {len(set(groups))} creators, families and folders), every image "
            "as a query against every other as a work, smallest distance over the query's "
            f"8 flips and quarter turns. Flat share: pixels of the {SIDE}x{SIDE} grey "
            f"thumbnail whose steps to the right and lower neighbour sum to under "
            f"{FLAT_STEP} grey levels. {elapsed:.0f} s on {machine()}; "
            "`python -m benchmarks.pdq_plainness`.",
            "Works by other creators or folders:",
            table(headers, other),
            "Other works of the same creator or folder:",
            table(headers, same),
        ]
    )
    write_section(
        "pdq_plainness",
        markdown,
        {"cuts": CUTS, "edges": EDGES, "other": other, "same": same, "seconds": elapsed},
    )
    print(markdown)


if __name__ == "__main__":
    main()
