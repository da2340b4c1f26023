"""Score normalisation against background neighbours: each method's arithmetic, and the
evaluation counting a copy only when its top-1 is its source and beats the distractors."""

from __future__ import annotations

import numpy as np

from benchmarks.normalisation import (
    NORMALISERS,
    Copies,
    DensityNulls,
    Neighbours,
    conditioned_verdicts,
    evaluate,
)


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


def test_density_nulls_rate_a_query_against_the_part_its_neighbourhood_falls_in() -> None:
    # four background images in two groups: a crowded pair (0, 1) whose other-group scores
    # run high (0.7-0.8), and a sparse pair (2, 3) whose other-group scores stay low (0.2-0.3)
    scores = np.array(
        [
            [1.0, 0.9, 0.8, 0.7],
            [0.9, 1.0, 0.7, 0.8],
            [0.3, 0.2, 1.0, 0.1],
            [0.2, 0.3, 0.1, 1.0],
        ],
        np.float32,
    )
    groups = ("a", "a", "b", "b")
    one = DensityNulls.fit(scores, groups, k=1, parts=1)
    two = DensityNulls.fit(scores, groups, k=1, parts=2)
    assert [null.n for null in one.nulls] == [8] and [null.n for null in two.nulls] == [4, 4]
    best = np.array([0.5])
    sparse, crowded = np.array([[0.25, 0.2]]), np.array([[0.85, 0.2]])
    assert one.rates(best, sparse, 1)[0] == one.rates(best, crowded, 1)[0] == 4 / 9
    # past every sparse non-match: the sample's floor, 1 / (n + 1); all crowded ones reach it
    assert two.rates(best, sparse, 1)[0] == 1 / 5
    assert two.rates(best, crowded, 1)[0] == 4 / 5


def test_conditioned_verdicts_count_copies_only_when_their_top1_is_the_source() -> None:
    copies = _copies([[0.2, 0.1], [0.3, 0.2]])
    background = np.full((30, 30), 0.1, np.float32)  # 450 other-group pairs, all at 0.1
    np.fill_diagonal(background, 1.0)
    groups = tuple("ab" * 15)
    with_self = Copies(
        copies.queries,
        copies.distractors,
        np.array([0, 0]),  # the second copy's top-1 (work 1) is not its source
        copies.domains,
        copies.background,
        background_self=background,
        groups=groups,
    )
    got = conditioned_verdicts(with_self, DensityNulls.fit(background, groups, 1, 1))
    # 0.9 and 0.8 lie past every non-match: each rated 1 - (1 - 1/451)^2 among two works,
    # under 1% but over 0.1%; only the first copy counts, and the distractor is rated alike
    assert got["copies possible"] == 0.5 and got["copies match"] == 0.0
    assert got["distractors possible"] == 1.0 and got["distractors match"] == 0.0
