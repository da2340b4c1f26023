"""How far the content head's whole-image vector survives photometric edits, and what one
more pair of views would add: the query's grey or low-pass version against the work's same
version, the score being the better of that pair and the plain one. Per edit on the copy
set: recall at 1% false-match rate of the top-1 score (as the accuracy table's "content
head, whole image" row), and the share of copies whose score the background null of the
same comparison rates under 1% per query for a catalog of the references' size. A probe:
matching pairs the grey low-pass view only in the `greylow` profile, measured in the product
in section accuracy-greylow-copy of benchmarks/RESULTS.md (this probe's own: content_probe).

    python -m benchmarks.content_probe --copy-queries 1200
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from benchmarks.accuracy import sample_queries
from benchmarks.calibrate import background
from benchmarks.copyset import build_copy_dev
from benchmarks.metrics import by_label, recall_at_fmr
from benchmarks.report import machine, table, write_section
from models.embedder import Embedder
from models.registry import load_profile
from models.views import LOW_PASS, SIDE, grey, grey_low_pass, low_pass
from service.calibrate import content_null, distinct, embed_all, view_scores
from service.calibration import NullDistribution, any_of

DISTRACTORS = "distractors (no recall; rated under 1%)"
PAIRED_VIEWS: dict[str, Callable[[Image.Image], Image.Image] | None] = {
    "image only (the shipped head)": None,
    "+ grey": grey,
    "+ low-pass": low_pass,
    "+ grey low-pass": grey_low_pass,
}
Vectors = dict[str, NDArray[np.float32]]  # per image set: works, queries, distractors, background


@dataclass(frozen=True)
class Probe:
    """The copy set's images and labels, and the background the null is measured on."""

    sets: dict[str, list[Image.Image]]
    truth: NDArray[np.int64]  # per query: index of its source among the works
    edits: list[str]
    groups: list[str]  # per background image: its creator, family or folder
    domains: tuple[str, ...] = ()  # per query: its source's domain (wallpaper, tuxpaint, ...)
    paths: tuple[str, ...] = ()  # per query: its file, as the accuracy run names it


def rows_for(probe: Probe, plain: Vectors, views: Vectors | None) -> dict[str, list[float | None]]:
    """Per edit (and all): [recall at 1% FMR, share of copies rated under 1% per query]; for
    the distractors: [None, share rated under 1%]."""

    def score(a: str, b: str) -> NDArray[np.float32]:
        paired = (views[a], views[b]) if views else None
        return view_scores(plain[a][:, None], plain[b], None, paired)

    bg = score("background", "background")
    null = NullDistribution.fit(content_null(bg, probe.groups, symmetric=True))
    works = len(plain["works"])

    def rated(scores: NDArray[np.float32]) -> NDArray[np.bool_]:
        """Whether the null rates each score under 1% per query for a catalog of the works."""
        return np.array([any_of(null.rate(s), works) < 0.01 for s in scores], bool)

    found, negatives = score("queries", "works"), score("distractors", "works").max(axis=1)
    best, correct = found.max(axis=1), found.argmax(axis=1) == probe.truth
    hits = rated(best) & correct
    out: dict[str, list[float | None]] = {}
    for edit, sel in by_label(probe.edits):
        out[edit] = [
            recall_at_fmr(best[sel], correct[sel], negatives, 0.01),
            float(hits[sel].mean()),
        ]
    out[DISTRACTORS] = [None, float(rated(negatives).mean())]
    return out


def pivot(data: dict[str, dict[str, list[float | None]]]) -> list[list[str]]:
    """One row per edit, one cell per score: 'recall / rated share' ('- / rate' for the
    distractors' row, which has no recall)."""
    edits = list(next(iter(data.values()))) if data else []

    def cell(recall: float | None, rated: float | None) -> str:
        return f"{'-' if recall is None else f'{recall:.3f}'} / {rated or 0.0:.3f}"

    return [[edit, *(cell(*data[label][edit]) for label in data)] for edit in edits]


def load_probe(cache: Path, copy_queries: int, glyphs_per_family: int) -> Probe:
    """The copy set's works, sampled copies and distractors, and the calibration background
    without its near duplicates."""
    dev = build_copy_dev(cache)
    picked = sample_queries(dev, copy_queries)
    ref_ids = [i.id for i in dev.references]
    bg = background(cache, glyphs_per_family)
    background_images = [Image.open(p).convert("RGB") for _, p in bg]
    keep = distinct(background_images)
    return Probe(
        sets={
            "works": [Image.open(i.path).convert("RGB") for i in dev.references],
            "queries": [Image.open(q.path).convert("RGB") for q in picked],
            "distractors": [Image.open(i.path).convert("RGB") for i in dev.distractors],
            "background": [background_images[i] for i in keep],
        },
        truth=np.array([ref_ids.index(q.source.id) for q in picked]),
        edits=[q.edit for q in picked],
        groups=[bg[i][0] for i in keep],
        domains=tuple(q.source.domain for q in picked),
        paths=tuple(str(q.path) for q in picked),
    )


def probe_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every probe of the copy set takes: the dev-set cache, how many copies
    (a seeded sample, as the accuracy run draws it) and glyphs per font family."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--copy-queries", type=int, default=0, help="0 = all")
    parser.add_argument("--glyphs-per-family", type=int, default=8)
    return parser


def embedded(args: argparse.Namespace) -> tuple[Probe, Embedder, Vectors]:
    """The probe the options name, the default profile's content head, and every image set's
    whole-image vectors."""
    probe = load_probe(args.cache, args.copy_queries, args.glyphs_per_family)
    embedder = load_profile("default").embedder("content")
    return probe, embedder, {name: embed_all(embedder, imgs) for name, imgs in probe.sets.items()}


def main(argv: list[str] | None = None) -> None:
    args = probe_parser(__doc__).parse_args(argv)
    started = time.perf_counter()
    probe, embedder, plain = embedded(args)
    data = {}
    for label, view in PAIRED_VIEWS.items():
        views = (
            {
                name: embed_all(embedder, [view(i) for i in imgs])
                for name, imgs in probe.sets.items()
            }
            if view
            else None
        )
        data[label] = rows_for(probe, plain, views)
    elapsed = time.perf_counter() - started
    sizes = {name: len(imgs) for name, imgs in probe.sets.items()}
    markdown = "\n\n".join(
        [
            "### Content head, whole image: paired grey and low-pass views (a probe)",
            f"{sizes['queries']} copies of {sizes['works']} works, {sizes['distractors']} "
            f"distractors; null from {sizes['background']} background images (pairs across "
            f"groups). Low-pass: Gaussian radius {LOW_PASS:g} px at {SIDE} px. The score is "
            "the whole image's, without the product's crops, PDQ or keypoints. "
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
