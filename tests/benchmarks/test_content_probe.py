"""The content probe's paired views: what a view removes, the better-of-two score, and the
null over pairs across groups."""

from __future__ import annotations

import numpy as np
from PIL import Image

from benchmarks.content_probe import (
    SIDE,
    grey,
    grey_low_pass,
    low_pass,
    null_across_groups,
    paired_scores,
    pivot,
)


def test_views_drop_colour_or_detail() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (100, 150, 3), dtype=np.uint8)
    img = Image.fromarray(pixels)
    g = np.asarray(grey(img))
    assert g.shape == (100, 150, 3) and (g[..., 0] == g[..., 2]).all()
    smooth = np.asarray(low_pass(img), np.float32)
    assert smooth.shape == (SIDE, SIDE, 3)
    assert smooth.std() < 0.3 * pixels.std()  # noise is mostly fine detail
    both = np.asarray(grey_low_pass(img))
    assert both.shape == (SIDE, SIDE, 3) and (both[..., 0] == both[..., 1]).all()


def test_paired_scores_take_the_better_comparison() -> None:
    q = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    w = np.array([[0.6, 0.8]], np.float32)
    assert np.allclose(paired_scores(q, w, None, None), [[0.6], [0.8]])
    qv = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    assert np.allclose(paired_scores(q, w, qv, w), [[0.8], [0.8]])


def test_null_keeps_only_pairs_across_groups() -> None:
    scores = np.arange(9, dtype=np.float32).reshape(3, 3)
    pairs = null_across_groups(scores, ["a", "a", "b"])
    assert sorted(pairs.tolist()) == [2.0, 5.0, 6.0, 7.0]  # a-b and b-a, never a-a or self


def test_pivot_puts_each_score_in_a_column() -> None:
    data: dict[str, dict[str, list[float | None]]] = {
        "image": {"blur": [0.5, 0.02], "distractors": [None, 0.0]},
        "+ grey": {"blur": [0.41, 0.02], "distractors": [None, 0.001]},
    }
    assert pivot(data) == [
        ["blur", "0.500 / 0.020", "0.410 / 0.020"],
        ["distractors", "- / 0.000", "- / 0.001"],
    ]
