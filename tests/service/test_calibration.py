"""Calibration maths: rates are monotone, thresholds agree with rates, verdicts and shares."""

import dataclasses
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from models import local
from service.calibrate import local_null
from service.calibration import (
    Calibration,
    NullDistribution,
    any_of,
    combine_rates,
    counted_bound,
    per_pair,
    poisson_upper,
)
from service.verdicts import shares, verdict
from tests.fakes import framed

floats = st.floats(-1, 1, allow_nan=False)


@given(st.lists(floats, min_size=5, max_size=300), floats, floats, st.booleans())
def test_rate_is_monotone_in_the_score(
    sample: list[float], a: float, b: float, higher: bool
) -> None:
    null = NullDistribution.fit(np.array(sample), higher_is_closer=higher)
    lo, hi = sorted((a, b))
    closer, farther = (hi, lo) if higher else (lo, hi)
    assert 0 < null.rate(closer) <= null.rate(farther) <= 1


def test_rate_matches_the_empirical_tail() -> None:
    sample = np.random.default_rng(0).normal(size=100_000)
    null = NullDistribution.fit(sample)
    for q in (0.9, 0.99, 0.999):
        score = float(np.quantile(sample, q))
        assert null.rate(score) == pytest.approx(1 - q, rel=0.1)
    assert null.rate(float(sample.max())) == pytest.approx(1 / 100_001)
    assert 0 < null.rate(float(sample.max()) + 1) < 1e-6  # exponential tail beyond the sample


@given(st.lists(floats, min_size=20, max_size=300), st.sampled_from([0.001, 0.01, 0.1]))
def test_threshold_scores_have_rate_at_most_the_target(sample: list[float], rate: float) -> None:
    null = NullDistribution.fit(np.array(sample))
    assert null.rate(null.threshold(rate)) <= max(rate, 1 / (len(sample) + 1))


@pytest.mark.parametrize(
    ("events", "bound"),  # Garwood's exact 95% bounds: chi-square(0.95, 2k + 2) / 2
    [(0, 2.995732), (1, 4.743865), (2, 6.295794), (10, 16.962219), (100, 118.079273)],
)
def test_poisson_upper_bound_is_exact(events: int, bound: float) -> None:
    assert poisson_upper(events) == pytest.approx(bound, rel=1e-6)


@given(st.integers(0, 5000))
def test_poisson_upper_bound_covers_the_count_and_rises_with_it(events: int) -> None:
    assert events + 1 < poisson_upper(events) < poisson_upper(events + 1)


@pytest.mark.parametrize(
    ("events", "confidence", "bound"),  # chi-square(confidence, 2k + 2) / 2, from scipy
    [(0, 1 - 0.05 / 3, 4.094345), (5000, 0.95, 5117.886079), (10**7, 0.95, 10005203.05259)],
)
def test_poisson_upper_bound_past_the_newton_range(
    events: int, confidence: float, bound: float
) -> None:
    assert poisson_upper(events, confidence) == pytest.approx(bound, rel=2e-7)


@given(st.floats(1e-9, 0.999), st.integers(1, 10**6))
def test_per_pair_inverts_any_of(rate: float, comparisons: int) -> None:
    assert any_of(per_pair(rate, comparisons), comparisons) == pytest.approx(rate, rel=1e-6)


@given(
    st.lists(floats, min_size=5, max_size=300, unique=True),  # ties: see the matcher
    st.floats(1e-9, 1.0),
    st.integers(1, 3),
)
def test_counted_bound_covers_the_combined_rate(
    sample: list[float], rate: float, tests: int
) -> None:
    null = NullDistribution.fit(np.array(sample))
    bound = counted_bound([(null, 7)] * tests, rate)
    assert combine_rates([rate] * tests) <= bound <= 1


def test_counted_bound_sums_what_each_null_vouches_for() -> None:
    small = NullDistribution.fit(np.random.default_rng(4).random(1_000))
    large = NullDistribution.fit(np.random.default_rng(5).random(1_000_000))
    beyond = 1e-9  # a rate past both nulls: each contributes its count-0 bound
    each = 3.688879  # k = 0 at 1 - 5% / 2: -ln(0.025)
    expected = any_of(each / 1_000, 10) + any_of(each / 1_000_000, 500)
    assert counted_bound([(small, 10), (large, 500)], beyond) == pytest.approx(expected, rel=1e-6)
    assert counted_bound([(large, 500)], beyond) == pytest.approx(any_of(2.995732e-6, 500), 1e-6)


def test_count_is_exact_near_the_top_and_never_an_undercount() -> None:
    sample = np.random.default_rng(2).normal(size=20_000)
    null = NullDistribution.fit(sample)
    ordered = np.sort(sample)[::-1]
    for rank in (1, 2, 7, 1999):
        assert null.count(float(ordered[rank - 1])) == rank
    for score in np.quantile(sample, [0.001, 0.5, 0.9, 0.99]):
        true = int((sample >= score).sum())
        assert true <= null.count(float(score)) <= 1.05 * true
    assert null.count(float(ordered[0]) + 1) == 0
    assert null.count(float(ordered[-1]) - 1) == null.n


def test_upper_bound_stands_on_the_counts_alone() -> None:
    null = NullDistribution.fit(np.random.default_rng(3).random(10_000))
    beyond = 2.0  # closer than every non-match: the rate is the fitted tail's
    assert null.rate(beyond) < 1e-6
    assert null.upper(beyond) == pytest.approx(2.995732 / 10_000, rel=1e-6)
    inside = float(np.quantile(null.scores, 0.5))
    assert null.rate(inside) < null.upper(inside) < 1


def test_distance_nulls_count_lower_as_closer() -> None:
    null = NullDistribution.fit(np.arange(0, 257, dtype=float).repeat(10), higher_is_closer=False)
    assert null.rate(10) < null.rate(100) < null.rate(200)


def test_json_round_trip() -> None:
    null = NullDistribution.fit(np.random.default_rng(1).random(5000))
    assert NullDistribution.from_json(null.to_json()) == null


def test_verdicts_and_shares() -> None:
    assert [verdict(r, 0.001, 0.01) for r in (0.0005, 0.001, 0.005, 0.5)] == [
        "match",
        "match",
        "possible",
        "none",
    ]
    s = shares([0.0001, 0.001, 0.5], possible_rate=0.01)
    assert s[0] > s[1] > 0 and s[2] == 0 and sum(s) == pytest.approx(1)
    assert shares([0.5, 0.9], 0.01) == [0.0, 0.0]
    assert combine_rates([0.01, 0.2]) == pytest.approx(0.02) and combine_rates([]) == 1.0


def test_per_query_rate_grows_with_the_catalog() -> None:
    assert any_of(1e-6, 1) == pytest.approx(1e-6)
    assert any_of(1e-6, 1000) == pytest.approx(1e-3, rel=1e-3)
    assert any_of(0.5, 10) == pytest.approx(1 - 0.5**10)
    assert any_of(1.0, 5) <= 1.0 and any_of(0.0, 5) == 0.0


def test_a_light_tailed_null_still_ranks_scores_beyond_its_sample() -> None:
    """A bounded sample (uniform) fits a tail with xi < 0; kept exponential, scores past the
    sample's end still get distinct, decreasing rates instead of all sharing the floor."""
    null = NullDistribution.fit(np.random.default_rng(2).random(20_000))
    rates = [null.rate(1.0 + step) for step in (0.01, 0.02, 0.05)]
    assert null.tail.xi >= 0
    assert 1 / 20_001 > rates[0] > rates[1] > rates[2] > 0


def test_a_calibration_file_keeps_its_verification_null(
    fake_cal: Calibration, tmp_path: Path
) -> None:
    assert fake_cal.local is not None and fake_cal.models["local"] == local.MODEL_ID
    fake_cal.save(tmp_path / "cal.json")
    assert Calibration.load(tmp_path / "cal.json") == fake_cal
    older = dataclasses.replace(fake_cal, local=None)  # a file from before verification
    older.save(tmp_path / "old.json")
    assert Calibration.load(tmp_path / "old.json").local is None


def test_local_null_keeps_same_creator_pairs() -> None:
    """Two works of a series sharing a frame verify; such pairs belong in the keypoint null."""
    gallery = Path(__file__).resolve().parents[2] / "examples" / "gallery"
    drawings = [
        Image.open(gallery / name).convert("RGB")
        for name in ("jean-victor-balin/bus.png", "jean-victor-balin/mail.png")
    ]
    images = [framed(d) for d in drawings] + [drawings[0]]
    scores = np.array([[1, 0.9, 0.1], [0.9, 1, 0.1], [0.1, 0.1, 1]], np.float32)
    null = local_null(images, scores, candidates=1)
    assert len(null) == 3  # every image against its closest other work, itself excluded
    found, strength = local.verify_query(local.extract_query(images[0]), local.extract(images[1]))
    assert found.inliers >= 15  # the frame alone verifies, over part of the work
    assert null[0] == pytest.approx(strength)  # as matching scores a query: mirrored too


rates = st.floats(0, 1, allow_nan=False)
any_score = st.floats(allow_nan=False)  # infinities included: a broken model must not break maths


@given(st.lists(floats, min_size=1, max_size=300), any_score, st.booleans())
def test_rate_is_a_probability_for_any_score(
    sample: list[float], score: float, higher: bool
) -> None:
    null = NullDistribution.fit(np.array(sample), higher_is_closer=higher)
    assert 0 <= null.rate(score) <= 1


@given(rates, rates, st.integers(-5, 10**9), st.integers(-5, 10**9))
def test_any_of_is_a_probability_rising_with_rate_and_comparisons(
    a: float, b: float, m: int, n: int
) -> None:
    (lo, hi), (few, many) = sorted((a, b)), sorted((m, n))
    assert 0 <= any_of(lo, few) <= any_of(hi, few) <= 1
    assert any_of(lo, few) <= any_of(lo, many)
    assert any_of(lo, few) >= min(lo, 1 - 1e-16) - 1e-12  # never rarer than one comparison


@given(st.lists(rates, max_size=50), rates)
def test_combined_rate_lies_between_the_best_rate_and_one(found: list[float], extra: float) -> None:
    combined = combine_rates(found)
    assert (min(found) if found else 1.0) <= combined <= 1
    assert combine_rates([*found, extra]) >= min([*found, extra])


@given(st.lists(rates, max_size=40), st.floats(1e-6, 0.5))
def test_shares_sum_to_one_or_zero_and_follow_the_rates(
    found: list[float], possible: float
) -> None:
    got = shares(found, possible)
    assert len(got) == len(found) and all(0 <= s <= 1 for s in got)
    assert sum(got) == pytest.approx(1) or sum(got) == 0
    assert (sum(got) > 0) == any(r < possible for r in found)
    ranked = sorted(zip(found, got, strict=True))
    for (ra, sa), (rb, sb) in pairwise(ranked):
        assert sa >= sb or ra == rb  # a rarer (lower) rate never gets a smaller share


@given(rates, rates, st.floats(1e-6, 0.5), st.floats(1e-6, 0.5))
def test_a_lower_rate_never_gets_a_weaker_verdict(a: float, b: float, m: float, p: float) -> None:
    match_rate, possible_rate = sorted((m, p))
    strength = {"match": 2, "possible": 1, "none": 0}
    lo, hi = sorted((a, b))
    assert (
        strength[verdict(lo, match_rate, possible_rate)]
        >= strength[verdict(hi, match_rate, possible_rate)]
    )
