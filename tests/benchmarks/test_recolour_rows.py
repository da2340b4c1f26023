"""The copy table's sensitivity rows: recolours counted as non-copies can only lower recall,
and lower it when they outscore the copies."""

from __future__ import annotations

import numpy as np

from benchmarks.accuracy import Predictions, recolour_rows


def _predictions(scores: list[float], sources: list[str]) -> Predictions:
    return Predictions(np.asarray(scores, np.float64), sources)


def test_recolours_scoring_above_the_copies_lower_recall_at_one_percent() -> None:
    queries = _predictions([5.0, 4.0, 3.0, 2.0], ["a", "b", "c", "d"])
    truth, edits = ["a", "b", "c", "d"], ["colour_jitter", "colour_jitter", "jpeg", "jpeg"]
    negatives = _predictions([0.5] * 200, ["a"] * 200)
    recolours = _predictions([4.5, 4.5, 4.5], ["a", "b", "c"])
    rows = {
        row[1]: row[2:] for row in recolour_rows("m", queries, truth, edits, negatives, recolours)
    }
    assert set(rows) == {"all", "colour_jitter"}
    assert rows["all"] == [1.0, 0.25]  # three recolours are over the 1% budget of 203
    assert rows["colour_jitter"] == [1.0, 0.5]


def test_without_recolours_both_columns_agree() -> None:
    queries = _predictions([5.0, 1.0], ["a", "x"])
    negatives = _predictions([0.5] * 100, ["a"] * 100)
    rows = recolour_rows("m", queries, ["a", "b"], ["jpeg", "jpeg"], negatives, None)
    assert rows == [["m", "all", 0.5, 0.5]]
