"""Score normalisation against background neighbours: each method's arithmetic, and the
evaluation counting a copy only when its top-1 is its source and beats the distractors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

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
        background_self=np.eye(2, dtype=np.float32),
        groups=("a", "b"),
        recolours=np.zeros((2, 2), bool),
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
    wrong = replace(copies, truth=np.array([1, 1]))
    assert evaluate(wrong, NORMALISERS["none (matching's score)"], 1)["photo (1)"] == 0.0


def test_csls_can_change_the_top1_by_the_works_hubness() -> None:
    copies = _copies([[0.2, 0.1], [0.3, 0.2]])
    hub = replace(
        copies,
        queries=np.array([[0.9, 0.85]], np.float32),  # the true source (work 1) a little lower
        truth=np.array([1]),
        domains=("photo",),
        background=copies.background
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
    two = DensityNulls.fit(scores, groups, k=1, parts=2)  # k-th closest: 0.9, 0.9, 0.3, 0.3
    assert [null.n for null in one.nulls] == [8] and [null.n for null in two.nulls] == [4, 4]
    best = np.array([0.5])
    sparse, crowded = np.array([[0.25, 0.2]]), np.array([[0.85, 0.2]])
    assert one.rates(best, sparse, 1)[0] == one.rates(best, crowded, 1)[0] == 4 / 9
    # past every sparse non-match: the sample's floor, 1 / (n + 1); all crowded ones reach it
    assert two.rates(best, sparse, 1)[0] == 1 / 5
    assert two.rates(best, crowded, 1)[0] == 4 / 5
    # among three works, the chance that any of them reaches it
    assert np.isclose(two.rates(best, sparse, 3)[0], 1 - (1 - 1 / 5) ** 3)


def test_density_nulls_take_the_kth_closest_and_count_a_symmetric_pair_once() -> None:
    # image 0's closest other image scores 0.9 and its second 0.1; the rest all score 0.1
    scores = np.full((4, 4), 0.1, np.float32)
    np.fill_diagonal(scores, 1.0)
    scores[0, 1] = scores[1, 0] = 0.9
    groups = ("a", "b", "c", "d")
    first = DensityNulls.fit(scores, groups, k=1, parts=2)
    # by the closest, images 0 and 1 are crowded (part 1), 2 and 3 sparse (part 0); each
    # part holds its rows' pairs with the other part and, once, the pair inside it
    assert np.isclose(first.edges[0], 0.5) and [n.n for n in first.nulls] == [5, 5]
    # a query is placed by its own k-th closest: the second closest puts this one with the
    # sparse images, the closest with the crowded ones
    query, plain, best = np.array([[0.9, 0.1, 0.1, 0.1]]), np.full((1, 4), 0.1), np.array([0.95])
    by_second = DensityNulls(2, first.edges, first.nulls)
    assert by_second.rates(best, query, 1)[0] == first.rates(best, plain, 1)[0]
    assert first.rates(best, query, 1)[0] != first.rates(best, plain, 1)[0]
    # by the second closest nobody is crowded: the median edge ties every image into one part
    with pytest.raises(ValueError, match="empty"):
        DensityNulls.fit(scores, groups, k=2, parts=2)
    # asymmetric scores (crops on one side only): every ordered pair counts
    lopsided = scores.copy()
    lopsided[2, 3] = 0.2
    assert [n.n for n in DensityNulls.fit(lopsided, groups, k=1, parts=1).nulls] == [12]
    with pytest.raises(ValueError, match="k must be"):
        DensityNulls.fit(scores, groups, k=4, parts=1)


def test_density_nulls_can_keep_one_creator_s_distinct_works_less_its_recolours() -> None:
    scores = np.full((4, 4), 0.2, np.float32)
    np.fill_diagonal(scores, 1.0)
    scores[0, 1] = scores[1, 0] = 0.9  # two works of creator a, a recolour of one another
    scores[2, 3] = scores[3, 2] = 0.5  # two distinct works of creator b
    groups = ("a", "a", "b", "b")
    recolours = np.zeros((4, 4), bool)
    recolours[0, 1] = recolours[1, 0] = True
    across = DensityNulls.fit(scores, groups, 1, 1).nulls[0]
    within = DensityNulls.fit(scores, groups, 1, 1, recolours).nulls[0]
    assert across.n == 4 and within.n == 5  # the pair (2, 3) joins; the recolour does not
    assert (across.count(0.5), within.count(0.5)) == (0, 1)


def test_conditioned_verdicts_are_matching_s_on_the_content_score_alone() -> None:
    copies = _copies([[0.2, 0.1], [0.3, 0.2]])
    background = np.full((30, 30), 0.1, np.float32)  # 435 pairs, each once, all at 0.1
    np.fill_diagonal(background, 1.0)
    with_self = replace(
        copies,
        truth=np.array([0, 0]),  # the second copy's top-1 (work 1) is not its source
        background_self=background,
        groups=tuple(f"g{i}" for i in range(30)),
    )
    nulls = DensityNulls.fit(background, with_self.groups, 1, 1)
    assert nulls.nulls[0].n == 435
    got = conditioned_verdicts(with_self, nulls)
    # 0.9, 0.8 and 0.7 lie past every non-match: each rated 1 - (1 - 1/436)^2 among two
    # works (0.46%), times 3 as matching combines its tests (1.4%): no verdict at all
    assert got == {
        "recall@1%": 0.5,  # the first copy ties the distractor's rate and wins on score
        "copies match": 0.0,
        "distractors match": 0.0,
        "copies match|possible": 0.0,
        "distractors match|possible": 0.0,
    }
