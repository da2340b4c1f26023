"""Whether per-query score normalisation against background neighbours (the SSCD/DISC21 trick)
or a hubness correction (CSLS) separates copies from non-copies better than the content score
matching uses. Scores are the product's: every query view against whole works and the whole
query against works' crops (the default profile's views). Neighbours are measured against the
calibration background. Per method: muAP and recall at 1% and 0.1% false-match rate of the
top-1 on the copy set, overall and per source domain, content score alone (no PDQ or
keypoints). One monotone map applied to every score, as a fitted null's rate is, would
leave these unchanged, so the table needs no calibration refitted per method. Two things
favour the normalised scores here: the thresholds are set on the evaluated distractors
themselves, not on a background null, and CSLS takes its top-1 over every work, where
matching would re-rank only the works its search returns.

    python -m benchmarks.normalisation --copy-queries 1200
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from benchmarks.accuracy import RATES
from benchmarks.content_probe import load_probe, probe_parser
from benchmarks.metrics import micro_average_precision, recall_at_fmr
from benchmarks.report import machine, table, write_section
from models.registry import load_profile
from models.views import VIEWS
from service.calibrate import embed_views, view_scores

Scores = NDArray[np.float32]


@dataclass(frozen=True)
class Neighbours:
    """Each image's closest background scores: the mean of the k closest, and the k-th."""

    mean: NDArray[np.float64]
    kth: NDArray[np.float64]

    @classmethod
    def of(cls, to_background: Scores, k: int) -> Neighbours:
        top = -np.sort(-to_background.astype(np.float64), axis=1)[:, :k]
        return cls(top.mean(axis=1), top[:, -1])


# score [n, m] of n queries against m works -> the normalised score
Normaliser = Callable[[Scores, Neighbours, Neighbours], NDArray[np.float64]]
NORMALISERS: dict[str, Normaliser] = {
    "none (matching's score)": lambda s, q, w: s.astype(np.float64),
    "minus the query's mean of k closest": lambda s, q, w: s - q.mean[:, None],
    "minus the query's k-th closest (DISC21)": lambda s, q, w: s - q.kth[:, None],
    "CSLS: 2s minus query's and work's means": lambda s, q, w: (
        2 * s - q.mean[:, None] - w.mean[None, :]
    ),
}


@dataclass(frozen=True)
class Copies:
    """Content scores of the copy set and each side's scores to the background."""

    queries: Scores  # [q, works]
    distractors: Scores  # [d, works]
    truth: NDArray[np.int64]  # per query: its source's index among the works
    domains: tuple[str, ...]  # per query
    background: dict[str, Scores]  # queries, distractors, works: [n, background]


def evaluate(copies: Copies, normalise: Normaliser, k: int) -> dict[str, float]:
    """muAP and recall at each of RATES overall, and recall at 1% per domain."""
    hood = {name: Neighbours.of(s, k) for name, s in copies.background.items()}
    found = normalise(copies.queries, hood["queries"], hood["works"])
    negatives = normalise(copies.distractors, hood["distractors"], hood["works"]).max(axis=1)
    best, correct = found.max(axis=1), found.argmax(axis=1) == copies.truth
    pooled = np.concatenate([best, negatives])
    hits = np.concatenate([correct, np.zeros(len(negatives), bool)])
    out = {"muAP": micro_average_precision(pooled, hits, len(best))}
    out |= {f"recall@{r:.1%}": recall_at_fmr(best, correct, negatives, r) for r in RATES}
    domains = np.asarray(copies.domains)
    for d in sorted(set(copies.domains)):
        sel = domains == d
        out[f"{d} ({sel.sum()})"] = recall_at_fmr(best[sel], correct[sel], negatives, RATES[0])
    return out


def load_copies(cache: Path, copy_queries: int, glyphs_per_family: int) -> Copies:
    """Embed the copy set's and the background's views and score every needed pair."""
    probe = load_probe(cache, copy_queries, glyphs_per_family)
    profile = load_profile("default")
    scheme = VIEWS[profile.content_views]
    if not scheme.work_is_query_crops or scheme.paired is not None:
        raise ValueError("written for works whose extra views are the query's crops, unpaired")
    embedder = profile.embedder("content")
    views = {
        n: embed_views(embedder, imgs, profile.content_views) for n, imgs in probe.sets.items()
    }

    def scores(queries: str, works: str) -> Scores:
        return view_scores(views[queries], views[works][:, 0], views[works][:, 1:])

    return Copies(
        queries=scores("queries", "works"),
        distractors=scores("distractors", "works"),
        truth=probe.truth,
        domains=probe.domains,
        background={
            "queries": scores("queries", "background"),
            "distractors": scores("distractors", "background"),
            "works": scores("background", "works").T,  # the works' hubness: as CSLS takes it
        },
    )


def main(argv: list[str] | None = None) -> None:
    parser = probe_parser(__doc__)
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10, 50])
    args = parser.parse_args(argv)
    started = time.perf_counter()
    copies = load_copies(args.cache, args.copy_queries, args.glyphs_per_family)
    data: dict[str, dict[str, float]] = {}
    for name, normalise in NORMALISERS.items():
        for k in args.k if name != "none (matching's score)" else [0]:
            data[f"{name}, k={k}" if k else name] = evaluate(copies, normalise, max(k, 1))
    elapsed = time.perf_counter() - started
    columns = list(next(iter(data.values())))
    n_bg = copies.background["queries"].shape[1]
    markdown = "\n\n".join(
        [
            "### Content score: per-query normalisation and CSLS (content alone)",
            f"{len(copies.truth)} copies of {copies.queries.shape[1]} works, "
            f"{len(copies.distractors)} distractors; neighbours among {n_bg} background images "
            "(the calibration's, without near duplicates). Domain columns: recall at 1% "
            f"false-match rate of that domain's copies (how many). {elapsed:.0f} s on "
            f"{machine()}; `python -m benchmarks.normalisation --copy-queries "
            f"{args.copy_queries}`.",
            table(["method", *columns], [[name, *row.values()] for name, row in data.items()]),
        ]
    )
    write_section("normalisation", markdown, data)
    print(markdown)


if __name__ == "__main__":
    main()
