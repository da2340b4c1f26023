"""What refining the keypoint placement to a homography adds (models/local.py): the keypoint
test alone, with the similarity only and with the refit, each against its own null measured
as the calibration measures it (each background image against its 10 closest others by
content). The copies are the copy set's CALIBRATION split, which no table scores: its 600
calibration copies under the 12 dev edits, and each of its 100 sources under a keystone, a
random four-corner view and a small tilt (seeded here, not by benchmarks.unseen_edits).
Section `placement` of benchmarks/RESULTS.md.

    python -m benchmarks.placement --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from PIL import Image

from benchmarks import edits
from benchmarks.calibrate import background
from benchmarks.copyset import build_copy_dev
from benchmarks.report import machine, table, write_section
from models import local
from models.registry import load_profile
from service.calibrate import background_scores, distinct, verified_pairs
from service.calibration import NullDistribution, any_of

TESTS = 3  # content, PDQ and keypoints: a test's rate counts for any of them firing
MODELS = {"similarity": 0, "homography": local.REFINE_ROUNDS}  # refits allowed
RATES = (0.01, 0.001)


def four_corners(img: Image.Image, rng: random.Random) -> Image.Image:
    """A view from off the picture's axis: each corner drawn inward by up to 15% of each side
    (the output's corners sample outside the picture; what falls there is white)."""
    rgb = img.convert("RGB")
    w, h = rgb.size
    signs = ((-1, -1), (1, -1), (1, 1), (-1, 1))  # top left, top right, bottom right, bottom left
    quad = [
        (
            (1 + sx) / 2 * w + sx * rng.uniform(0, 0.15) * w,
            (1 + sy) / 2 * h + sy * rng.uniform(0, 0.15) * h,
        )
        for sx, sy in signs
    ]
    return edits.seen_at(rgb, quad)


EXTRA: dict[str, Callable[[Image.Image, random.Random], Image.Image]] = {
    "keystone": edits.perspective,
    "four_corners": four_corners,
    "tilt": edits.tilt,
}


def copies(cache: Path, seed: int) -> list[tuple[str, local.QueryFeatures, local.LocalFeatures]]:
    """(edit, query keypoints, source keypoints) of every copy of the calibration split."""
    dev = build_copy_dev(cache)
    sources = {i.id: local.extract(Image.open(i.path).convert("RGB")) for i in dev.calibration}
    out = [
        (q.edit, local.extract_query(Image.open(q.path).convert("RGB")), sources[q.source.id])
        for q in dev.calibration_queries
    ]
    for k, item in enumerate(dev.calibration):
        img = Image.open(item.path).convert("RGB")
        for name, edit in EXTRA.items():
            made = edit(img, random.Random(f"{seed}:placement:{name}:{k}"))
            out.append((name, local.extract_query(made), sources[item.id]))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    images = [Image.open(p).convert("RGB") for _, p in background(args.cache, 8)]
    images = [images[i] for i in distinct(images)]
    profile = load_profile("default")
    scores, _ = background_scores(profile.embedder("content"), images, profile.content_views)
    pairs = verified_pairs(scores, local.CANDIDATES)
    background_feats = [local.extract_query(img) for img in images]
    made = copies(args.cache, args.seed)
    found: dict[str, dict[str, list[float]]] = defaultdict(dict)
    nulls: dict[str, Any] = {}
    for model, rounds in MODELS.items():
        with mock.patch.object(local, "REFINE_ROUNDS", rounds):
            null = np.array(
                [
                    local.verify_query(background_feats[i], background_feats[j].as_is)[1]
                    for i, j in pairs
                ]
            )
            fitted = NullDistribution.fit(null)
            per_edit: dict[str, list[float]] = defaultdict(list)  # rates per query
            for edit, query, work in made:
                strength = local.verify_query(query, work)[1]
                per_edit[edit].append(TESTS * any_of(fitted.rate(strength), local.CANDIDATES))
        nulls[model] = null
        for edit, rates in per_edit.items():
            found[edit][model] = rates
    rows = []
    for edit in sorted(found, key=lambda e: (e not in EXTRA, e)):
        cells: list[Any] = [edit, len(found[edit]["similarity"])]
        for model in MODELS:
            rated = np.asarray(found[edit][model])
            cells += [float(np.mean(rated < r)) for r in RATES]
        rows.append(cells)
    top = {m: np.sort(n)[::-1] for m, n in nulls.items()}
    delta = nulls["homography"] - nulls["similarity"]  # per pair: what the refit added
    changed, stronger = int(np.sum(np.abs(delta) > 1e-6)), int(np.sum(delta > 1e-6))
    tail = len(pairs) // 100  # the strongest 1% of the null: what `possible` and `match` read
    strongest = np.argsort(-nulls["homography"], kind="stable")[:tail]
    moved = int(np.sum(np.abs(delta[strongest]) > 1e-6))
    differ = np.nonzero(np.abs(top["homography"] - top["similarity"]) > 1e-6)[0]
    kept = int(differ[0]) if len(differ) else len(pairs)  # ranks before the first that moved
    seconds = round(time.perf_counter() - started, 1)
    text = "\n\n".join(
        [
            "### Keypoint placement: a similarity, or refined to a homography",
            f"The keypoint test alone, each model against its own null ({len(pairs)} background "
            f"pairs, as calibrated). Copies: the copy set's calibration split ({len(made)}), "
            f"which no other table scores. {seconds} s on {machine()}; "
            "`python -m benchmarks.placement`.",
            "Share of the copies rated under 1% / 0.1% per query by keypoints alone (the rate "
            f"counted for {local.CANDIDATES} candidates and {TESTS} tests):",
            table(["edit", "copies", "similarity <1%", "<0.1%", "homography <1%", "<0.1%"], rows),
            f"Null: {changed} of {len(pairs)} pairs change ({stronger} verify more strongly); "
            f"of its strongest 1% ({tail} pairs), {moved} changed, the strongest {kept} did "
            f"not, and its edge is {top['similarity'][tail - 1]:.1f} against "
            f"{top['homography'][tail - 1]:.1f}; the ten strongest, similarity "
            f"{', '.join(f'{v:.1f}' for v in top['similarity'][:10])}; homography "
            f"{', '.join(f'{v:.1f}' for v in top['homography'][:10])}.",
        ]
    )
    tops = {m: t[:20].tolist() for m, t in top.items()}
    write_section(
        "placement",
        text,
        {
            "rows": rows,
            "null_top": tops,
            "changed": changed,
            "stronger": stronger,
            "moved_in_tail": moved,
            "seconds": seconds,
        },
    )
    print(text)


if __name__ == "__main__":
    main()
