"""Retrieval and verification metrics for the accuracy benchmark, as small pure functions.

Style: creator precision@k and mAP@k over ranked works. Copy detection: micro-average
precision (muAP, DISC21/SSCD: every (query, reference, score) prediction pooled and ranked
by score) and recall at a false-match rate set on non-copy queries; two methods compared copy
by copy (McNemar's exact test) and a recall's interval (Wilson). Verdict rates are plain
means and live where they are counted. Nothing here loads images or models.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def by_label(labels: Sequence[str]) -> list[tuple[str, NDArray[np.intp]]]:
    """Each label (sorted), then "all", with the indices of the items it covers: how the
    copy tables break their figures down by edit or domain."""
    return [
        (name, np.array([k for k, lab in enumerate(labels) if name in (lab, "all")], np.intp))
        for name in [*sorted(set(labels)), "all"]
    ]


def precision_at(ranked: Sequence[Sequence[str]], truth: Sequence[str], k: int) -> float:
    """Share of queries whose true label is among their first k ranked labels."""
    if not truth:
        return float("nan")
    return float(np.mean([t in list(row)[:k] for row, t in zip(ranked, truth, strict=True)]))


def average_precision_at(relevant: Sequence[bool], k: int, n_relevant: int) -> float:
    """AP@k of one ranked list: mean precision at each relevant rank <= k, over min(R, k)."""
    if n_relevant <= 0:
        return 0.0
    hits, total = 0, 0.0
    for rank, rel in enumerate(relevant[:k], start=1):
        if rel:
            hits += 1
            total += hits / rank
    return total / min(n_relevant, k)


def mean_average_precision_at(
    ranked_labels: Sequence[Sequence[str]], truth: Sequence[str], gallery: Sequence[str], k: int
) -> float:
    """mAP@k over works: a ranked work is relevant when its label is the query's label; R
    is how many gallery works carry that label."""
    counts: dict[str, int] = {}
    for label in gallery:
        counts[label] = counts.get(label, 0) + 1
    aps = [
        average_precision_at([r == t for r in row], k, counts.get(t, 0))
        for row, t in zip(ranked_labels, truth, strict=True)
    ]
    return float(np.mean(aps)) if aps else float("nan")


def micro_average_precision(
    scores: NDArray[np.floating], correct: NDArray[np.bool_], n_positives: int
) -> float:
    """muAP: predictions pooled over queries and ranked by score; AP of that list with recall
    over `n_positives` (the queries that have a true reference). Ties keep input order after
    a stable sort by descending score, as the DISC21 reference code does."""
    if n_positives <= 0:
        raise ValueError("n_positives must be positive")
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    hits = np.asarray(correct, bool)[order]
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    return float(np.sum(precision[hits]) / n_positives)


def threshold_at_fmr(negative_scores: NDArray[np.floating], fmr: float) -> float:
    """Lowest threshold t such that at most `fmr` of the negatives score >= t (a score must
    exceed every negative above the allowed share)."""
    neg = np.sort(np.asarray(negative_scores, np.float64))[::-1]
    allowed = int(np.floor(fmr * len(neg)))
    if allowed >= len(neg):
        return float("-inf")
    return float(np.nextafter(neg[allowed], np.inf))


def recall_at_fmr(
    positive_scores: NDArray[np.floating],
    positive_correct: NDArray[np.bool_],
    negative_scores: NDArray[np.floating],
    fmr: float,
) -> float:
    """Share of copy queries whose top-1 is the true source AND scores at or above the
    threshold that lets through `fmr` of the non-copy queries' top-1 scores."""
    found = found_at_fmr(positive_scores, positive_correct, negative_scores, fmr)
    return float(np.mean(found)) if len(found) else 0.0


def found_at_fmr(
    positive_scores: NDArray[np.floating],
    positive_correct: NDArray[np.bool_],
    negative_scores: NDArray[np.floating],
    fmr: float,
) -> NDArray[np.bool_]:
    """Per copy query: is its top-1 the true source, scoring at or above the threshold that
    lets through `fmr` of the non-copy queries' top-1 scores (what `recall_at_fmr` counts)."""
    t = threshold_at_fmr(negative_scores, fmr)
    pos = np.asarray(positive_scores, np.float64)
    return np.asarray(positive_correct, bool) & (pos >= t)


def sign_test(only_a: int, only_b: int) -> float:
    """Exact two-sided p-value of McNemar's test: the chance, were both methods equally good,
    of a split of the discordant queries (found by one method only) at least this uneven."""
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    tail = 2 * sum(math.comb(n, i) for i in range(k + 1))  # integers, exactly
    return min(1.0, tail / 2**n)  # overflows a float past n = 1023, int / int does not


def wilson_interval(hits: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson's score interval for a proportion of `hits` in `n` (95% by default): what a
    recall measured on n copies allows the true recall to be."""
    if n <= 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if hits == 0 else max(0.0, centre - half)  # exact at the ends, not 1e-18 off
    return (low, 1.0 if hits == n else min(1.0, centre + half))
