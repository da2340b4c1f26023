"""How far PDQ should count as evidence: the copy set matched once with PDQ measured at any
distance (the TOP_K closest works of each query), then each reach in REACHES applied to the
tests behind every shown work as matching combines them. Per reach: recall at 1% and 0.1%
false-match rate, the edits whose recall falls below PDQ alone's (each at 1% on its own
distractors), the copies only one of the two finds, the distractors given any evidence, and
the same-style non-copies rated `possible` or closer (benchmarks/RESULTS.md, pdq_reach).

    python -m benchmarks.pdq_reach --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks import baselines
from benchmarks.accuracy import (
    RATES,
    Predictions,
    creator_id,
    load,
    match_all,
    paired_rows,
    rank_score,
    registered_runtime,
    sample_queries,
    top1,
)
from benchmarks.copyset import build_copy_dev
from benchmarks.metrics import recall_at_fmr
from benchmarks.report import machine, table, write_section
from models.pdq import MATCH_DISTANCE, PDQ_BITS
from service.calibration import combine_rates
from service.registration import WorkSource
from service.schemas import MatchResult

REACHES = (MATCH_DISTANCE, 34, 36, 40, 44, 48, 54, 64, PDQ_BITS)
TOP_K = 20  # works shown per query: the closest under any reach are among them

# one shown work: its id, content cosine, and each test's (measured value, rate alone)
Shown = tuple[str, float, dict[str, tuple[float, float]]]


def shown(results: Sequence[MatchResult]) -> list[list[Shown]]:
    """Per result, each shown work with the tests behind its rate."""
    return [
        [
            (m.work_id, m.score, {t: (b.value, b.calibrated) for t, b in m.tests.items()})
            for m in r.content.matches
        ]
        for r in results
    ]


def rate_within(tests: dict[str, tuple[float, float]], reach: int, count: int) -> float:
    """A work's rate had matching counted PDQ within `reach` bits: the least rate of the
    tests that count, for any of the `count` tests matching runs (combine_rates)."""
    rates = [rate for t, (value, rate) in tests.items() if t != "pdq" or value <= reach]
    return combine_rates([min(rates, default=1.0)] + [1.0] * (count - 1))


def top_within(
    results: list[list[Shown]], reach: int, count: int
) -> tuple[Predictions, NDArray[Any]]:
    """Each result's first work under `reach`, ranked as the accuracy benchmark ranks the
    product (-log10 rate, ties by cosine), and its rate."""
    scores, sources, rates = [], [], []
    for rows in results:
        best = (-math.inf, "", 1.0)
        for work_id, cosine, tests in rows:
            rate = rate_within(tests, reach, count)
            score = rank_score(rate, cosine)
            best = max(best, (score, work_id, rate), key=lambda b: b[0])
        scores.append(best[0] if rows else 0.0)
        sources.append(best[1])
        rates.append(best[2])
    return Predictions(np.asarray(scores), sources), np.asarray(rates)


def reach_row(
    reach: int,
    results: tuple[list[list[Shown]], list[list[Shown]]],
    count: int,
    pdq: tuple[Predictions, Predictions],
    truth: list[str],
    edits: list[str],
    same: NDArray[Any],
    possible: float,
) -> list[Any]:
    """[reach, recall@1%, recall@0.1%, edits below PDQ alone, styletrace only, PDQ only,
    distractors with evidence, same-style non-copies (`same`) rated `possible` or closer]."""
    (found, _), (negatives, negative_rates) = (top_within(r, reach, count) for r in results)
    correct = np.array([s == t for s, t in zip(found.sources, truth, strict=True)])
    recall = [recall_at_fmr(found.scores, correct, negatives.scores, rate) for rate in RATES]
    per_edit = paired_rows(found, pdq[0], truth, edits, (negatives, pdq[1]))
    below = [
        f"{row[0]} ({row[5] - row[4]})"
        for row in per_edit
        if row[0] != "all" and float(row[2].split()[0]) < row[3]
    ]
    overall = next(row for row in per_edit if row[0] == "all")
    return [
        reach, *recall, ", ".join(below) or "none", overall[4], overall[5],
        int(np.sum(negative_rates < 1.0)), float(np.mean(negative_rates[same] <= possible)),
    ]  # fmt: skip


HEADERS = [
    "PDQ counted within (bits)",
    "recall@1%FMR",
    "recall@0.1%FMR",
    "edits below PDQ alone (copies short)",
    "styletrace only",
    "PDQ only",
    "distractors with evidence",
    "same-style non-copies possible or closer",
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--copy-queries", type=int, default=0, help="0 = all")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    dev = build_copy_dev(args.cache)
    picked = sample_queries(dev, args.copy_queries)
    refs = load([("", i.path) for i in dev.references])
    ref_ids = [i.id for i in dev.references]
    queries = load([("", q.path) for q in picked])
    distractors = load([("", i.path) for i in dev.distractors])
    pdq_q, pdq_d = (
        top1(baselines.pdq_similarity(x, refs), ref_ids) for x in (queries, distractors)
    )
    works = [WorkSource(creator_id(i.group), i.id, i.path) for i in dev.references]
    with tempfile.TemporaryDirectory() as tmp:
        runtime = registered_runtime(Path(tmp), works, "default")
        count = 3 if runtime.matcher.verifies else 2  # embedding, PDQ, keypoints
        possible = runtime.options().possible_rate
        results = (
            shown(match_all(runtime, queries, TOP_K, pdq_reach=PDQ_BITS)),
            shown(match_all(runtime, distractors, TOP_K, pdq_reach=PDQ_BITS)),
        )
    truth, edits = [q.source.id for q in picked], [q.edit for q in picked]
    groups = {w.creator_id for w in works}
    same = np.array([creator_id(i.group) in groups for i in dev.distractors])
    rows = [
        reach_row(reach, results, count, (pdq_q, pdq_d), truth, edits, same, possible)
        for reach in REACHES
    ]
    seconds = round(time.perf_counter() - started, 1)
    text = "\n\n".join(
        [
            "### How far PDQ counts: recall by PDQ's reach (a probe)",
            f"`python -m benchmarks.pdq_reach`: {len(picked)} copies of {len(refs)} sources, "
            f"{len(distractors)} distractors ({int(same.sum())} by a source's artist or "
            f"folder); {seconds} s on {machine()}. The product matched each image once with "
            f"PDQ measured at any distance ({TOP_K} works shown); each row counts PDQ only "
            f"within its reach, as matching would. Matching counts it within "
            f"{MATCH_DISTANCE}. An edit is below PDQ alone when its recall at 1% is lower "
            "than PDQ alone's at 1% of its own distractors.",
            table(HEADERS, rows),
        ]
    )
    data = {"rows": rows, "seconds": seconds, "copies": len(picked)}
    write_section("pdq_reach", text, data)
    print(text)


if __name__ == "__main__":
    main()
