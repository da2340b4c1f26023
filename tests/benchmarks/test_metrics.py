"""Benchmark metrics against hand-worked examples and their defining properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.metrics import (
    average_precision_at,
    by_label,
    found_at_fmr,
    mean_average_precision_at,
    micro_average_precision,
    precision_at,
    recall_at_fmr,
    sign_test,
    threshold_at_fmr,
    wilson_interval,
)


def test_precision_at_k_counts_truth_within_the_first_k() -> None:
    ranked = [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    truth = ["a", "a", "a"]
    assert precision_at(ranked, truth, 1) == pytest.approx(1 / 3)
    assert precision_at(ranked, truth, 2) == pytest.approx(2 / 3)
    assert precision_at(ranked, truth, 3) == 1.0


def test_average_precision_by_hand() -> None:
    # relevant at ranks 1 and 3, three relevant in all: (1/1 + 2/3) / 3
    assert average_precision_at([True, False, True, False], 10, 3) == pytest.approx(5 / 9)
    # only k ranks count, and the denominator is min(R, k)
    assert average_precision_at([False, True, True], 2, 5) == pytest.approx(0.5 / 2)
    assert average_precision_at([False, False], 10, 0) == 0.0


def test_map_uses_the_gallery_label_counts() -> None:
    gallery = ["a", "a", "b"]
    ranked = [["a", "b", "a"], ["a", "a", "b"]]
    # query 1 (a): hits at 1 and 3 -> (1 + 2/3)/2; query 2 (b): hit at 3 -> (1/3)/1
    expected = ((1 + 2 / 3) / 2 + 1 / 3) / 2
    assert mean_average_precision_at(ranked, ["a", "b"], gallery, 10) == pytest.approx(expected)


def test_micro_ap_by_hand() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, False, True, False])
    # precision at the hits: 1/1 and 2/3; three queries have a true reference
    assert micro_average_precision(scores, correct, 3) == pytest.approx((1 + 2 / 3) / 3)


def test_micro_ap_is_one_only_when_every_hit_outranks_every_miss() -> None:
    scores = np.array([0.9, 0.8, 0.1])
    assert micro_average_precision(scores, np.array([True, True, False]), 2) == 1.0
    assert micro_average_precision(scores, np.array([False, True, True]), 2) < 1.0
    with pytest.raises(ValueError):
        micro_average_precision(scores, np.array([True, True, False]), 0)


def test_threshold_lets_through_at_most_the_allowed_share() -> None:
    neg = np.arange(100, dtype=float)  # 0..99
    t = threshold_at_fmr(neg, 0.05)
    assert np.mean(neg >= t) == pytest.approx(0.05)
    assert threshold_at_fmr(neg, 0.0) > 99
    assert threshold_at_fmr(neg, 1.0) == float("-inf")


def test_recall_needs_the_right_source_and_a_score_above_the_threshold() -> None:
    neg = np.linspace(0.0, 0.5, 100)
    pos = np.array([0.9, 0.9, 0.3, 0.95])
    correct = np.array([True, False, True, True])
    assert recall_at_fmr(pos, correct, neg, 0.01) == pytest.approx(0.5)


@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=60),
    st.floats(0, 1),
)
def test_threshold_property(neg_list: list[float], fmr: float) -> None:
    neg = np.array(neg_list)
    t = threshold_at_fmr(neg, fmr)
    assert np.mean(neg >= t) <= fmr + 1e-12
    # the threshold is tight: one step lower would let through more than allowed
    if np.isfinite(t) and fmr < 1:
        assert np.mean(neg >= np.nextafter(t, -np.inf)) > fmr or t == np.nextafter(
            neg.max(), np.inf
        )


@given(st.lists(st.tuples(st.floats(0, 1, allow_nan=False), st.booleans()), min_size=1))
def test_micro_ap_is_a_probability(pairs: list[tuple[float, bool]]) -> None:
    scores = np.array([s for s, _ in pairs])
    correct = np.array([c for _, c in pairs])
    value = micro_average_precision(scores, correct, max(1, int(correct.sum())))
    assert 0.0 <= value <= 1.0


def test_by_label_lists_each_label_sorted_then_all() -> None:
    groups = by_label(["rotate", "blur", "rotate"])
    assert [name for name, _ in groups] == ["blur", "rotate", "all"]
    assert [sel.tolist() for _, sel in groups] == [[1], [0, 2], [0, 1, 2]]
    assert [(name, sel.size) for name, sel in by_label([])] == [("all", 0)]


def test_found_marks_the_copies_recall_counts() -> None:
    neg = np.linspace(0.0, 0.5, 100)
    pos = np.array([0.9, 0.9, 0.3, 0.95])
    correct = np.array([True, False, True, True])
    assert found_at_fmr(pos, correct, neg, 0.01).tolist() == [True, False, False, True]


def test_sign_test_by_hand() -> None:
    assert sign_test(0, 0) == 1.0
    assert sign_test(2, 0) == pytest.approx(0.5)  # 2 * (1/2)^2
    assert sign_test(0, 5) == pytest.approx(2 / 32)
    assert sign_test(1, 9) == pytest.approx(2 * 11 / 1024)  # 2 * (C(10,0) + C(10,1)) / 2^10
    assert sign_test(3, 3) == 1.0
    # thousands of discordant copies (a whole copy set): exact, no float overflow
    assert sign_test(1000, 1000) == 1.0
    assert sign_test(1500, 1400) == pytest.approx(0.0661, abs=2e-3)  # normal approximation
    assert 0.0 <= sign_test(3000, 0) < 1e-300


@given(st.integers(0, 60), st.integers(0, 60))
def test_sign_test_is_symmetric_and_falls_as_the_split_grows_uneven(a: int, b: int) -> None:
    assert sign_test(a, b) == sign_test(b, a)
    assert 0.0 < sign_test(a, b) <= 1.0
    assert sign_test(a + 1, b) <= sign_test(a, b) or a < b


def test_wilson_interval_by_hand() -> None:
    low, high = wilson_interval(50, 100)
    assert (low, high) == (pytest.approx(0.4038, abs=1e-4), pytest.approx(0.5962, abs=1e-4))
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson_interval(10, 10)  # a perfect score on 10 copies still allows 0.72
    assert high == 1.0 and low == pytest.approx(0.7225, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_holds_the_measured_share(case: tuple[int, int]) -> None:
    hits, n = case
    low, high = wilson_interval(hits, n)
    assert 0.0 <= low <= hits / n <= high <= 1.0
