"""Content nulls split by the query's neighbourhood: which pairs count, where the parts
split, which part a query reads, and the calibration file that keeps them."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from service.calibrate import content_nulls, null_pairs
from service.calibration import Calibration, ContentNulls, NullDistribution, kth_closest


def test_null_pairs_leave_out_recolours_and_count_a_symmetric_pair_once_per_part() -> None:
    creators = ["a", "a", "a", "b"]
    recolours = np.zeros((4, 4), bool)
    recolours[0, 1] = recolours[1, 0] = True  # a's first two works are one drawing
    apart = null_pairs(creators)
    assert apart.sum() == 6 and not apart[0, 2]  # no pair within a creator
    within = null_pairs(creators, recolours)
    assert within[0, 2] and within[2, 1] and not within[0, 1] and not within[1, 0]
    assert not within.diagonal().any() and within.sum() == 10  # 12 ordered pairs less 2
    once = null_pairs(creators, recolours, symmetric=True)
    assert once.sum() == 5 and not (once & once.T).any()
    parts = np.array([0, 0, 1, 1])
    split = null_pairs(creators, recolours, symmetric=True, parts=parts)
    assert split[0, 2] and split[2, 0]  # a query from either part meets the other side
    assert split[2, 3] != split[3, 2]  # within a part, once
    assert split.sum() == 0 + 1 + 4 * 2  # within part 0 only the recolour (0, 1)


def test_kth_closest() -> None:
    scores = np.array([[0.1, 0.9, 0.5, 0.7], [0.3, 0.2, 0.1, 0.0]])
    assert kth_closest(scores, 1).tolist() == [0.9, 0.3]
    assert kth_closest(scores, 3).tolist() == pytest.approx([0.5, 0.1])


def _clusters() -> tuple[np.ndarray, list[str], np.ndarray]:
    """12 images: six crowded around one direction, six spread out; three creators."""
    rng = np.random.default_rng(0)
    centre = np.eye(8)[0]
    crowded = centre + 0.05 * rng.standard_normal((6, 8))
    spread = rng.standard_normal((6, 8))
    whole = np.concatenate([crowded, spread]).astype(np.float32)
    whole /= np.linalg.norm(whole, axis=1, keepdims=True)
    creators = ["a", "b", "c"] * 4
    return whole, creators, whole @ whole.T


def test_the_background_splits_at_the_median_neighbourhood() -> None:
    whole, creators, scores = _clusters()
    nulls = content_nulls(scores, whole, creators, np.zeros((12, 12), bool), k=2, parts=2)
    near = whole.astype(np.float16).astype(np.float32) @ whole.astype(np.float16).T
    np.fill_diagonal(near, -np.inf)  # an image's neighbours are the OTHER images
    kth = kth_closest(near, 2)
    assert nulls.edges == pytest.approx([np.median(kth)])
    part = np.searchsorted(nulls.edges, kth)
    assert part[:6].tolist() == [1] * 6 and part[6:].tolist() == [0] * 6
    for p in (0, 1):  # each part: its six images as queries, against all 11 others
        assert nulls.nulls[p].n == 15 + 6 * 6  # once within the part, both ways across
    assert nulls.nulls[1].threshold(0.1) > nulls.nulls[0].threshold(0.1)  # crowded: closer
    # a query placed as its background image was: the crowded one reads the crowded null
    queried = nulls.neighbourhoods(whole[[0, 6]])
    assert [nulls.part(v) for v in queried] == [1, 0]
    assert queried[0] >= kth[0] - 1e-3  # itself now among the background: one closer


def test_a_small_background_keeps_one_null_and_no_vectors() -> None:
    whole, creators, scores = _clusters()
    nulls = content_nulls(scores, whole, creators, k=6, parts=2)  # 12 images: 6 per part
    assert len(nulls.nulls) == 1 and nulls.background is None and nulls.edges == ()
    assert nulls.nulls[0].n == 48  # the pairs of different creators, once each
    assert nulls.part(0.9) == 0 and np.isnan(nulls.neighbourhoods(whole[:2])).all()


def test_parts_need_their_edges_and_background() -> None:
    null = NullDistribution.fit(np.linspace(0, 1, 50))
    with pytest.raises(ValueError, match="edges"):
        ContentNulls((null, null))
    with pytest.raises(ValueError, match="background"):
        ContentNulls((null, null), k=3, edges=(0.5,))


def test_a_calibration_file_keeps_the_split(fake_cal: Calibration, tmp_path: Path) -> None:
    whole, creators, scores = _clusters()
    split = replace(fake_cal, content=content_nulls(scores, whole, creators, k=2, parts=2))
    assert split.content.background is not None
    assert split.content.background.dtype == np.float16
    split.save(tmp_path / "cal.json")
    loaded = Calibration.load(tmp_path / "cal.json")
    assert loaded.content == split.content != fake_cal.content
    np.testing.assert_array_equal(loaded.content.background, split.content.background)
    # a file from before the split stored its one content null alone
    assert len(fake_cal.content.nulls) == 1 and fake_cal.content.background is None
    data = json.loads((tmp_path / "cal.json").read_text())
    data["content"] = fake_cal.content.nulls[0].to_json()
    (tmp_path / "old.json").write_text(json.dumps(data))
    assert Calibration.load(tmp_path / "old.json").content == fake_cal.content
