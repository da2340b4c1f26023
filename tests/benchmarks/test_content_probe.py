"""The content probe's paired views: what a view removes and the null over pairs across
groups (the better-of-two score itself: tests/service/test_views.py)."""

from __future__ import annotations

import numpy as np

from benchmarks.content_probe import (
    DISTRACTORS,
    Probe,
    pivot,
    rows_for,
)


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_rows_for_scores_copies_against_the_distractors_and_the_null() -> None:
    rng = np.random.default_rng(0)
    works = _unit(rng.normal(size=(4, 64)))
    plain = {
        "works": works,
        "queries": _unit(works[[0, 1, 2]] + 0.05 * rng.normal(size=(3, 64))),  # close copies
        "distractors": _unit(rng.normal(size=(50, 64))),
        "background": _unit(rng.normal(size=(40, 64))),
    }
    probe = Probe(
        sets={},
        truth=np.array([0, 1, 3]),  # the third query copies work 2, but is labelled work 3
        edits=["blur", "blur", "crop50"],
        groups=[f"g{i % 8}" for i in range(40)],
    )
    rows = rows_for(probe, plain, None)
    assert list(rows) == ["blur", "crop50", "all", DISTRACTORS]
    assert rows["blur"] == [1.0, 1.0]  # found first, far past every unrelated pair
    assert rows["crop50"] == [0.0, 0.0]  # a wrong top-1 is never a hit, however close
    assert rows["all"][0] == 2 / 3
    assert rows[DISTRACTORS] == [None, 0.0]
    views = {name: -vectors for name, vectors in plain.items()}  # same cosines, paired
    assert rows_for(probe, plain, views) == rows


def test_pivot_puts_each_score_in_a_column() -> None:
    data: dict[str, dict[str, list[float | None]]] = {
        "image": {"blur": [0.5, 0.02], "distractors": [None, 0.0]},
        "+ grey": {"blur": [0.41, 0.02], "distractors": [None, 0.001]},
    }
    assert pivot(data) == [
        ["blur", "0.500 / 0.020", "0.410 / 0.020"],
        ["distractors", "- / 0.000", "- / 0.001"],
    ]
