"""Style score normalisation: creator aggregates, each method's arithmetic, and the evaluation
counting a query only when its top creator is right and beats the non-matches' threshold."""

from __future__ import annotations

import numpy as np

from benchmarks.style_normalisation import (
    Scored,
    creator_scores,
    csls,
    evaluate,
    margin,
    minus_hubness,
    minus_reference,
    unchanged,
    verdicts,
)
from service.calibration import NullDistribution


def test_creator_scores_average_each_creators_three_closest_works() -> None:
    sims = np.array([[0.9, 0.1, 0.8, 0.7, 0.6, 0.2]])
    labels = np.array(["a", "b", "a", "a", "a", "b"])
    got = creator_scores(sims, labels, np.array(["a", "b"]))
    np.testing.assert_allclose(got, [[0.8, 0.15]])  # (0.9+0.8+0.7)/3; b has only two


def test_margin_subtracts_the_best_other_creators_and_keeps_the_ranking() -> None:
    s = np.array([[0.9, 0.5, 0.7, 0.1]])
    got = margin(1)(s, np.zeros((1, 0)), np.zeros(4))
    np.testing.assert_allclose(got, [[0.2, -0.4, -0.2, -0.8]])  # the best's other is 0.7
    two = margin(2)(s, np.zeros((1, 0)), np.zeros(4))
    np.testing.assert_allclose(two, [[0.3, -0.3, 0.0, -0.7]], atol=1e-12)
    assert (np.argsort(-two) == np.argsort(-s)).all()


def test_reference_hubness_and_csls_subtract_their_neighbourhoods() -> None:
    s, ref, hub = np.array([[0.9, 0.5]]), np.array([[0.6, 0.4, 0.2, 0.0]]), np.array([0.1, 0.3])
    np.testing.assert_allclose(unchanged(s, ref, hub), s)
    np.testing.assert_allclose(minus_reference(1)(s, ref, hub), [[0.3, -0.1]])
    np.testing.assert_allclose(minus_reference(3)(s, ref, hub), [[0.5, 0.1]])
    np.testing.assert_allclose(minus_hubness(s, ref, hub), [[0.8, 0.2]])
    np.testing.assert_allclose(csls(s, ref, hub), [[1.3, 0.3]])


def test_evaluate_counts_right_top_creators_above_the_non_matches() -> None:
    queries = np.array([[0.9, 0.2], [0.3, 0.8], [0.6, 0.5], [0.2, 0.4]])
    truth = np.array(["a", "b", "b", "b"])  # the third's top creator is wrong
    negatives = np.array([[0.5, 0.1]] * 95 + [[0.85, 0.1]] * 5)  # 5% of them score 0.85
    none = np.zeros((len(negatives), 1))
    scored = Scored(
        np.array(["a", "b"]),
        (queries, np.zeros((4, 1))),
        truth,
        {"impostors": (negatives, none)},
        np.zeros((3, 2)),
        {},
    )
    out = evaluate(scored, unchanged, 1)
    assert out["P@1"] == 0.75 and out["P@3"] == 1.0
    assert out["recall@1%, impostors"] == 0.25  # only 0.9 beats the 0.85s
    assert out["recall@5%, impostors"] == 0.5  # 0.9 and 0.8 beat the 0.5s; 0.4 does not


def test_verdicts_rate_the_best_score_less_its_level_on_the_normalised_null() -> None:
    null = NullDistribution.fit(np.linspace(0.0, 0.5, 1000).astype(np.float32))
    queries = np.array([[0.9, 0.2], [0.45, 0.1]])  # past the null's top, and inside it
    scored = Scored(
        np.array(["a", "b"]),
        (queries, np.zeros((2, 1))),
        np.array(["a", "a"]),
        {"impostors": (np.array([[0.2, 0.3]]), np.zeros((1, 1)))},
        np.zeros((1, 2)),
        {},
    )
    levels = {"queries": np.array([0.0, 0.3]), "impostors": np.array([0.0])}
    got = verdicts(scored, {"raw": null, "normalised": null}, levels)
    raw, normalised = got["raw (1000 null pairs)"], got["normalised (1000 null pairs)"]
    assert raw["match|possible"] == 0.5 and normalised["match|possible"] == 0.5
    assert raw["impostors, match|possible"] == 0.0
    levels["queries"] = np.array([0.6, 0.0])  # now the first falls below the null's top
    assert (
        verdicts(scored, {"normalised": null}, levels)["normalised (1000 null pairs)"][
            "registered styles' unseen works, match"
        ]
        == 0.0
    )
