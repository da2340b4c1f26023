"""The PDQ-reach probe re-applies matching's rule to the tests behind each shown work: PDQ
counts only within the reach, the least rate counts for any of the tests run."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.accuracy import Predictions
from benchmarks.pdq_reach import rate_within, reach_row, top_within


def test_pdq_beyond_the_reach_does_not_count() -> None:
    tests = {"embedding": (0.6, 0.5), "pdq": (40.0, 0.02)}
    assert rate_within(tests, 31, 3) == 1.0  # 3 * 0.5, capped
    assert rate_within(tests, 40, 3) == pytest.approx(0.06)
    assert rate_within({}, 256, 3) == 1.0


def test_top_within_ranks_by_rate_then_cosine() -> None:
    rows = [
        [("a", 0.9, {"embedding": (0.9, 0.5)}), ("b", 0.5, {"pdq": (36.0, 0.01)})],
        [("c", 0.7, {"embedding": (0.7, 0.9)}), ("d", 0.8, {"embedding": (0.8, 0.9)})],
        [],
    ]
    found, rates = top_within(rows, 31, 3)
    assert found.sources == ["a", "d", ""]  # all at rate 1: the higher cosine first
    assert rates.tolist() == [1.0, 1.0, 1.0]
    found, rates = top_within(rows, 40, 3)
    assert found.sources[0] == "b" and rates[0] == pytest.approx(0.03)


def test_a_wider_reach_finds_the_pdq_copy_and_lets_the_distractor_in() -> None:
    # one blurred copy only PDQ sees (36 bits), one distractor 38 bits from a sibling work
    copies = [[("src", 0.05, {"embedding": (0.05, 0.99), "pdq": (36.0, 0.01)})]]
    distractors = [[("sib", 0.3, {"embedding": (0.3, 1.0), "pdq": (38.0, 0.02)})]]
    distractors += [[("w", 0.1, {"embedding": (0.1, 1.0)})]] * 99
    pdq = (
        Predictions(np.array([1 - 36 / 256]), ["src"]),
        Predictions(np.full(100, 1 - 90 / 256), ["w"] * 100),
    )
    same = np.ones(100, bool)
    narrow = reach_row(31, (copies, distractors), 3, pdq, ["src"], ["blur"], same, 0.01)
    wide = reach_row(40, (copies, distractors), 3, pdq, ["src"], ["blur"], same, 0.01)
    assert narrow[1] == 0.0 and narrow[3] == "blur (1)" and narrow[6] == 0
    assert wide[1] == 1.0 and wide[3] == "none" and wide[6] == 1
    assert wide[7] == 0.0  # 3 * 0.02: evidence, yet not `possible`
