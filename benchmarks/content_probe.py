"""How far the content head's whole-image vector survives photometric edits, and what one
more pair of views would add: the query's grey or low-pass version against the work's same
version, the score being the better of that pair and the plain one. Per edit on the copy
set: recall at 1% false-match rate of the top-1 score (as the accuracy table's "content
head, whole image" row), and the share of copies whose score the background null of the
same comparison rates under 1% per query for a catalog of the references' size. A probe:
matching does not use these views (benchmarks/RESULTS.md, section content_probe).

    python -m benchmarks.content_probe --copy-queries 1200
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from benchmarks.accuracy import sample_queries
from benchmarks.calibrate import background
from benchmarks.copyset import build_copy_dev
from benchmarks.metrics import recall_at_fmr
from benchmarks.report import machine, table, write_section
from models.registry import load_profile
from service.calibrate import distinct, embed_all
from service.calibration import NullDistribution, any_of

DISTRACTORS = "distractors (no recall; rated under 1%)"
SIDE = 224  # the content embedder's input size: views are blurred at the size it sees
LOW_PASS = 3.0  # Gaussian radius, pixels at SIDE


def grey(img: Image.Image) -> Image.Image:
    return img.convert("L").convert("RGB")


def low_pass(img: Image.Image) -> Image.Image:
    small = img.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    return small.filter(ImageFilter.GaussianBlur(LOW_PASS))


def grey_low_pass(img: Image.Image) -> Image.Image:
    return low_pass(grey(img))


PAIRED_VIEWS: dict[str, Callable[[Image.Image], Image.Image] | None] = {
    "image only (the shipped head)": None,
    "+ grey": grey,
    "+ low-pass": low_pass,
    "+ grey low-pass": grey_low_pass,
}


def paired_scores(
    queries: NDArray[np.float32],
    works: NDArray[np.float32],
    query_views: NDArray[np.float32] | None,
    work_views: NDArray[np.float32] | None,
) -> NDArray[np.float32]:
    """[q, w] score: the cosine of the images, or the better of it and the views' cosine."""
    scores: NDArray[np.float32] = queries @ works.T
    if query_views is not None and work_views is not None:
        scores = np.maximum(scores, query_views @ work_views.T)
    return scores


def null_across_groups(scores: NDArray[np.float32], groups: Sequence[str]) -> NDArray[np.float32]:
    """Scores of every pair of images in different groups, each ordered pair once."""
    labels = np.asarray(groups)
    other = labels[:, None] != labels[None, :]
    pairs: NDArray[np.float32] = scores[other]
    return pairs


def pivot(data: dict[str, dict[str, list[float | None]]]) -> list[list[str]]:
    """One row per edit, one cell per score: 'recall / rated share' ('- / rate' for the
    distractors' row, which has no recall)."""
    edits = list(next(iter(data.values()))) if data else []

    def cell(recall: float | None, rated: float | None) -> str:
        return f"{'-' if recall is None else f'{recall:.3f}'} / {rated or 0.0:.3f}"

    return [[edit, *(cell(*data[label][edit]) for label in data)] for edit in edits]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--copy-queries", type=int, default=0, help="0 = all")
    parser.add_argument("--glyphs-per-family", type=int, default=8)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    dev = build_copy_dev(args.cache)
    picked = sample_queries(dev, args.copy_queries)
    ref_ids = [i.id for i in dev.references]
    truth = np.array([ref_ids.index(q.source.id) for q in picked])
    edits = [q.edit for q in picked]
    bg = background(args.cache, args.glyphs_per_family)
    sets = {
        "works": [Image.open(i.path).convert("RGB") for i in dev.references],
        "queries": [Image.open(q.path).convert("RGB") for q in picked],
        "distractors": [Image.open(i.path).convert("RGB") for i in dev.distractors],
        "background": [Image.open(p).convert("RGB") for _, p in bg],
    }
    keep = distinct(sets["background"])
    sets["background"] = [sets["background"][i] for i in keep]
    groups = [bg[i][0] for i in keep]
    embedder = load_profile("default").embedder("content")
    plain = {name: embed_all(embedder, imgs) for name, imgs in sets.items()}
    data: dict[str, dict[str, list[float | None]]] = {}
    for label, view in PAIRED_VIEWS.items():
        views: dict[str, NDArray[np.float32] | None] = (
            {name: embed_all(embedder, [view(i) for i in imgs]) for name, imgs in sets.items()}
            if view
            else dict.fromkeys(sets)
        )

        def score(
            a: str, b: str, views: dict[str, NDArray[np.float32] | None] = views
        ) -> NDArray[np.float32]:
            return paired_scores(plain[a], plain[b], views[a], views[b])

        null = NullDistribution.fit(null_across_groups(score("background", "background"), groups))
        found, negatives = score("queries", "works"), score("distractors", "works").max(axis=1)
        best, correct = found.max(axis=1), found.argmax(axis=1) == truth
        rated = np.array([any_of(null.rate(s), len(ref_ids)) < 0.01 for s in best]) & correct
        data[label] = {}
        for edit in [*sorted(set(edits)), "all"]:
            sel = np.array([edit in (e, "all") for e in edits])
            data[label][edit] = [
                recall_at_fmr(best[sel], correct[sel], negatives, 0.01),
                float(rated[sel].mean()),
            ]
        false = np.mean([any_of(null.rate(s), len(ref_ids)) < 0.01 for s in negatives])
        data[label][DISTRACTORS] = [None, float(false)]
    elapsed = time.perf_counter() - started
    markdown = "\n\n".join(
        [
            "### Content head, whole image: paired grey and low-pass views (a probe)",
            f"{len(picked)} copies of {len(ref_ids)} works, {len(dev.distractors)} distractors; "
            f"null from {len(groups)} background images (pairs across groups). "
            f"Low-pass: Gaussian radius {LOW_PASS:g} px at {SIDE} px. "
            f"{elapsed:.0f} s on {machine()}; "
            f"`python -m benchmarks.content_probe --copy-queries {args.copy_queries}`.",
            "Each cell: recall at 1% false-match rate / share rated under 1% per query.",
            table(["edit", *data], pivot(data)),
        ]
    )
    write_section("content_probe", markdown, data)
    print(markdown)


if __name__ == "__main__":
    main()
