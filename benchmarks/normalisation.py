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

A second table takes the neighbourhood into the calibration instead of the score, as the
calibration does (service/calibrate.py `content_nulls`): the background split at quantiles
of each image's k-th closest background image, whole image against whole image, each part
with its own null, and a query rated against the part its own k-th closest falls in. It
reports the verdicts matching would give on the content score alone (its rate counted once
per test matching runs), with one null and with those conditioned nulls, on the copies
and on the distractors, where `match` claims 0.1% and `match|possible` 1%. Each null is
fitted twice: on pairs of different groups alone, and with pairs of one group's distinct
works too, less the recolours `models.structure` finds (as the calibration fits it).

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
from models.structure import recolour_pairs
from models.views import VIEWS
from service.calibrate import content_nulls, embed_scheme, view_scores
from service.calibration import ContentNulls, any_of, combine_rates

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
    background_self: Scores  # the background against itself [b, b], for conditioned nulls
    whole: dict[str, Scores]  # queries, distractors, background: whole-image vectors [n, d]
    groups: tuple[str, ...]  # per background image: its creator, family or folder
    recolours: NDArray[np.bool_]  # [b, b]: pairs within a group the recolour rule joins


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


TESTS_RUN = 3  # matching's tests (embedding, PDQ, keypoints): combine_rates counts each


def conditioned_rates(
    nulls: ContentNulls, best: NDArray[np.floating], whole: Scores, works: int
) -> NDArray[np.float64]:
    """Per-query rate of each top-1 score among `works` works, read as matching reads it:
    from the null of the part that the query's whole-image vector (`whole` [n, d]) falls in."""
    parts = [nulls.part(v) for v in nulls.neighbourhoods(whole)]
    return np.array(
        [any_of(nulls.nulls[p].rate(s), works) for s, p in zip(best, parts, strict=True)]
    )


def conditioned_verdicts(copies: Copies, nulls: ContentNulls) -> dict[str, float]:
    """Recall at 1% with the rates as scores, and the verdicts matching would give on the
    content score alone (its rate counted TESTS_RUN times): `match` (0.1%) and
    `match|possible` (1%) on copies whose top-1 is their source, and on the distractors."""
    works = copies.queries.shape[1]
    best, correct = copies.queries.max(axis=1), copies.queries.argmax(axis=1) == copies.truth
    negatives = copies.distractors.max(axis=1)
    found = conditioned_rates(nulls, best, copies.whole["queries"], works)
    false = conditioned_rates(nulls, negatives, copies.whole["distractors"], works)
    ranked = -np.log10(found) + 1e-6 * best  # ties broken by score, as the accuracy run does
    out = {
        "recall@1%": recall_at_fmr(ranked, correct, -np.log10(false) + 1e-6 * negatives, RATES[0])
    }
    as_matching = [
        np.array([combine_rates([r] + [1.0] * (TESTS_RUN - 1)) for r in rates])
        for rates in (found, false)
    ]
    for name, rate in (("match", RATES[1]), ("match|possible", RATES[0])):
        out[f"copies {name}"] = float(np.mean(correct & (as_matching[0] <= rate)))
        out[f"distractors {name}"] = float(np.mean(as_matching[1] <= rate))
    return out


def load_copies(cache: Path, copy_queries: int, glyphs_per_family: int) -> Copies:
    """Embed the copy set's and the background's views and score every needed pair."""
    probe = load_probe(cache, copy_queries, glyphs_per_family)
    profile = load_profile("default")
    scheme_name = profile.content_views
    scheme = VIEWS[scheme_name]
    if not scheme.work_is_query_crops:
        raise ValueError("written for works whose extra views are the query's crops")
    embedder = profile.embedder("content")
    views = {n: embed_scheme(embedder, imgs, scheme_name) for n, imgs in probe.sets.items()}

    def scores(queries: str, works: str) -> Scores:
        (q, q_paired), (w, w_paired) = views[queries], views[works]
        paired = (q_paired, w_paired) if q_paired is not None and w_paired is not None else None
        return view_scores(q, w[:, 0], w[:, 1:], paired)

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
        background_self=scores("background", "background"),
        whole={n: views[n][0][:, 0] for n in ("queries", "distractors", "background")},
        groups=tuple(probe.groups),
        recolours=recolour_pairs(probe.sets["background"], probe.groups),
    )


def main(argv: list[str] | None = None) -> None:
    parser = probe_parser(__doc__)
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10, 50])
    parser.add_argument("--parts", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args(argv)
    started = time.perf_counter()
    copies = load_copies(args.cache, args.copy_queries, args.glyphs_per_family)
    data: dict[str, dict[str, float]] = {}
    for name, normalise in NORMALISERS.items():
        for k in args.k if name != "none (matching's score)" else [0]:
            data[f"{name}, k={k}" if k else name] = evaluate(copies, normalise, max(k, 1))
    conditioned = {
        (f"by density, {parts} parts, k={k}" if parts > 1 else "one null (as matching)")
        + (", with one creator's works" if own else ""): conditioned_verdicts(
            copies,
            content_nulls(
                copies.background_self,
                copies.whole["background"],
                copies.groups,
                copies.recolours if own else None,
                k,
                parts,
            ),
        )
        for parts in [1, *(p for p in args.parts if p > 1)]
        for k in (args.k if parts > 1 else [1])
        for own in (False, True)
    }
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
            "Verdicts on the content score alone, with its null conditioned on the query's "
            "background neighbourhood (the background split at quantiles of each image's k-th "
            "closest background image by whole-image cosine, each part's scores against other "
            "groups its null; with one creator's works, pairs within a creator, family or "
            "folder too, less those the recolour rule joins), as the calibration fits it. "
            "Rated among "
            f"the works and counted {TESTS_RUN} times, as matching combines its tests; "
            "`match` claims 0.1% and `match|possible` 1% on the distractors:",
            table(
                ["null", *next(iter(conditioned.values()))],
                [[name, *row.values()] for name, row in conditioned.items()],
            ),
        ]
    )
    write_section("normalisation", markdown, data | {"conditioned": conditioned})
    print(markdown)


if __name__ == "__main__":
    main()
