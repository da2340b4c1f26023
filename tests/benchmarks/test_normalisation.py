"""Score normalisation against background neighbours: each method's arithmetic, and the
evaluation counting a copy only when its top-1 is its source and beats the distractors."""

from __future__ import annotations

import numpy as np

from benchmarks.normalisation import NORMALISERS, Copies, Neighbours, evaluate


def test_neighbours_are_the_mean_and_last_of_the_k_closest() -> None:
    hood = Neighbours.of(np.array([[0.1, 0.9, 0.5, 0.7]], np.float32), 2)
    np.testing.assert_allclose([hood.mean[0], hood.kth[0]], [0.8, 0.7], atol=1e-6)


def test_each_normaliser_subtracts_its_neighbourhood() -> None:
    s = np.array([[0.9, 0.5]], np.float32)
    q = Neighbours(np.array([0.3]), np.array([0.2]))
    w = Neighbours(np.array([0.1, 0.4]), np.array([0.0, 0.0]))
    got = {name: f(s, q, w)[0].round(6).tolist() for name, f in NORMALISERS.items()}
    assert list(got.values()) == [[0.9, 0.5], [0.6, 0.2], [0.7, 0.3], [1.4, 0.3]]


def _copies(query_background: list[list[float]]) -> Copies:
    """Two copies scoring 0.9 and 0.7 with their sources, a distractor at 0.8."""
    queries = np.array([[0.9, 0.1], [0.2, 0.7]], np.float32)
    return Copies(
        queries=queries,
        distractors=np.array([[0.8, 0.3]], np.float32),
        truth=np.array([0, 1]),
        domains=("photo", "clipart"),
        background={
            "queries": np.array(query_background, np.float32),
            "distractors": np.array([[0.75, 0.7]], np.float32),
            "works": np.zeros((2, 2), np.float32),
        },
    )


def test_a_copy_below_a_distractor_counts_only_once_normalisation_lifts_it() -> None:
    copies = _copies([[0.2, 0.1], [0.3, 0.2]])  # the distractor's neighbourhood is crowded
    plain = evaluate(copies, NORMALISERS["none (matching's score)"], 1)
    assert plain["recall@1.0%"] == 0.5 and plain["clipart (1)"] == 0.0
    assert plain["photo (1)"] == 1.0 and np.isclose(plain["muAP"], (1 + 2 / 3) / 2)
    shifted = evaluate(copies, NORMALISERS["minus the query's k-th closest (DISC21)"], 1)
    assert shifted["recall@1.0%"] == 1.0 and shifted["muAP"] == 1.0


def test_a_wrong_top1_is_never_a_hit() -> None:
    copies = _copies([[0.2, 0.1], [0.3, 0.2]])
    wrong = Copies(
        copies.queries, copies.distractors, np.array([1, 1]), copies.domains, copies.background
    )
    assert evaluate(wrong, NORMALISERS["none (matching's score)"], 1)["photo (1)"] == 0.0


def test_csls_can_change_the_top1_by_the_works_hubness() -> None:
    copies = _copies([[0.2, 0.1], [0.3, 0.2]])
    hub = Copies(
        np.array([[0.9, 0.85]], np.float32),  # the true source (work 1) scores a little lower
        copies.distractors,
        np.array([1]),
        ("photo",),
        copies.background
        | {"queries": copies.background["queries"][:1], "works": np.array([[0.9], [0.1]])},
    )
    csls = NORMALISERS["CSLS: 2s minus query's and work's means"]
    assert evaluate(hub, NORMALISERS["none (matching's score)"], 1)["recall@1.0%"] == 0.0
    assert evaluate(hub, csls, 1)["recall@1.0%"] == 1.0  # work 0 is a hub: everything nears it
