"""The copy table's sensitivity rows (recolours counted as non-copies can only lower recall,
and lower it when they outscore the copies), its list of the copies the product misses, and
what its recall at 1% stands on."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.accuracy import (
    Predictions,
    evidence_at_cut,
    paired_rows,
    product_misses,
    recolour_rows,
    reviewed_row,
)
from benchmarks.copyset import REVIEWED_DERIVATIVES, CopyItem, CopyQuery, reviewed_derivatives
from service.schemas import ContentResult, MatchResult, WorkMatch


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


def test_paired_rows_count_the_copies_only_one_method_finds() -> None:
    found = _predictions([5.0, 5.0, 0.1, 5.0], ["a", "b", "c", "x"])
    pdq = _predictions([5.0, 0.1, 5.0, 5.0], ["a", "b", "c", "d"])
    negatives = (_predictions([1.0] * 100, ["a"] * 100), _predictions([1.0] * 100, ["a"] * 100))
    edits = ["blur", "blur", "jpeg", "jpeg"]
    rows = paired_rows(found, pdq, ["a", "b", "c", "d"], edits, negatives)
    by_edit = {row[0]: row[1:] for row in rows}
    # blur: both find a, only styletrace finds b; jpeg: only PDQ finds c and d (x is wrong)
    assert by_edit["blur"][0] == 2 and by_edit["blur"][2:5] == [0.5, 1, 0]
    assert by_edit["jpeg"][2:5] == [1.0, 0, 2]
    assert by_edit["all"][3:] == [1, 2, 1.0]
    assert by_edit["blur"][1].startswith("1.000 (")


def test_without_recolours_both_columns_agree() -> None:
    queries = _predictions([5.0, 1.0], ["a", "x"])
    negatives = _predictions([0.5] * 100, ["a"] * 100)
    rows = recolour_rows("m", queries, ["a", "b"], ["jpeg", "jpeg"], negatives, None)
    assert rows == [["m", "all", 0.5, 0.5]]


def _result(matches: list[WorkMatch]) -> MatchResult:
    content = ContentResult(verdict="none", score=0.0, calibrated=1.0, matches=matches)
    return MatchResult.model_construct(content=content)


def test_product_misses_lists_copies_below_the_cut_or_on_the_wrong_source() -> None:
    source = CopyItem("a", "clipart", "g", Path("a.png"))
    other = CopyItem("b", "clipart", "g", Path("b.png"))
    picked = [
        CopyQuery("blur", source, Path("found.png")),
        CopyQuery("blur", source, Path("weak.png")),
        CopyQuery("rescale", other, Path("wrong.png")),
    ]
    weak = WorkMatch(creator_id="g", work_id="a", score=0.5, calibrated=0.1, pdq_distance=28)
    results = [_result([]), _result([weak]), _result([])]
    found = _predictions([3.0, 1.0, 3.0], ["a", "a", "a"])
    misses = product_misses(picked, results, found, cut=2.0)
    assert [(m["query"], m["edit"], m["top1"]) for m in misses] == [
        ("weak.png", "blur", "a"),
        ("wrong.png", "rescale", "a"),
    ]
    assert (misses[0]["source_pdq"], misses[0]["source_content"]) == (28, 0.5)
    assert misses[1]["source_pdq"] is None


def test_evidence_at_cut_counts_copies_found_on_their_cosine_alone() -> None:
    # 100 distractors, one with evidence: the 1% cut lets that one through and sits at the
    # second, a rate-1 distractor scoring 1e-6 * 0.5 on its cosine
    negatives = Predictions(np.array([2.0] + [5e-7] * 99), ["w"] * 100)
    negative_rates = np.array([0.01] + [1.0] * 99)
    found = Predictions(np.array([3.0, 9e-7, 4e-7, 9e-7]), ["a", "b", "c", "x"])
    rates = np.array([0.001, 1.0, 1.0, 1.0])
    counts = evidence_at_cut(found, ["a", "b", "c", "d"], rates, negatives, negative_rates)
    # a: evidence; b: above the cut on its cosine; c: below it; the fourth: wrong source
    assert counts == {
        "distractors with evidence": 1,
        "copies found without evidence": 1,
        "copies found": 2,
    }


def test_setting_aside_the_closest_distractor_lifts_recall_at_the_strict_rate() -> None:
    # 1,000 distractors: 0.1% lets one through, so the cut sits on the second closest; the two
    # closest are derivatives. Set aside, 998 let none through: the cut falls to the rest
    negatives = _predictions([0.95, 0.94] + [0.5] * 998, ["a"] * 1000)
    copies = _predictions([0.9, 0.6], ["a", "b"])
    keep = np.ones(1000, bool)
    keep[:2] = False
    row = reviewed_row("m", copies, ["a", "b"], ["blur", "jpeg"], negatives, keep)
    assert row == ["m", 1.0, 1.0, 0.0, 1.0]


def test_the_reviewed_derivatives_name_distinct_distractors_and_their_sources() -> None:
    listed = reviewed_derivatives()
    assert listed and all(d != s and "/" in d and "/" in s for d, s in listed.items())
    rows = REVIEWED_DERIVATIVES.read_text().splitlines()[1:]
    assert len(rows) == len(listed)  # no distractor listed twice
