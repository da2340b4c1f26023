"""Score normalisation against background neighbours: each method's arithmetic, and the
evaluation counting a copy only when its top-1 is its source and beats the distractors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from benchmarks.normalisation import (
    NORMALISERS,
    Copies,
    Neighbours,
    conditioned_verdicts,
    evaluate,
)
from service.calibrate import content_nulls
from service.calibration import ContentNulls, NullDistribution


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
        whole={
            "queries": np.eye(2, dtype=np.float32),
            "distractors": np.array([[0.0, -1.0]], np.float32),
            "background": np.eye(2, dtype=np.float32),
        },
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
    nulls = content_nulls(background, np.eye(30, dtype=np.float32), with_self.groups, parts=1)
    assert len(nulls.nulls) == 1 and nulls.nulls[0].n == 435
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


def test_conditioned_verdicts_read_each_query_s_part() -> None:
    """Two parts: the sparse null's non-matches all score 0.1, the crowded one's 0.95. The
    first copy and the distractor (whole vectors on the background's first image) are
    crowded, the second copy (pointing away from it) sparse."""
    copies = replace(
        _copies([[0.2, 0.1], [0.3, 0.2]]),
        whole={
            "queries": np.array([[1.0, 0.0], [0.0, -1.0]], np.float32),
            "distractors": np.array([[1.0, 0.0]], np.float32),
            "background": np.eye(2, dtype=np.float32),
        },
    )
    sparse, crowded = (NullDistribution.fit(np.full(999, v)) for v in (0.1, 0.95))
    nulls = ContentNulls((sparse, crowded), 1, (0.5,), np.eye(2, dtype=np.float16))
    got = conditioned_verdicts(copies, nulls)
    # the crowded copy (0.9) sits below every crowded non-match; the sparse copy (0.7) lies
    # past every sparse one: 1 - (1 - 1/1000)^2 among two works, times 3 (0.6%): possible
    assert got["copies match|possible"] == 0.5 and got["copies match"] == 0.0
    assert got["distractors match|possible"] == 0.0  # 0.8 is crowded: 0.95 is common there
