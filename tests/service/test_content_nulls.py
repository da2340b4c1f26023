"""Content nulls split by the query's neighbourhood: which pairs count, where the parts
split, which part a query reads, and the calibration file that keeps them."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from service.calibrate import content_nulls, fit_calibration, null_pairs
from service.calibration import Calibration, ContentNulls, NullDistribution, kth_closest
from tests.fakes import PALETTES, HistogramEmbedder, PixelEmbedder, drawing


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


def test_one_part_keeps_no_vectors_and_too_small_a_background_is_refused() -> None:
    whole, creators, scores = _clusters()
    one = content_nulls(scores, whole, creators, parts=1)
    assert len(one.nulls) == 1 and one.background is None and one.edges == ()
    assert one.nulls[0].n == 48  # the pairs of different creators, once each
    assert one.part(0.9) == 0 and np.isnan(one.neighbourhoods(whole[:2])).all()
    with pytest.raises(ValueError, match="too few"):
        content_nulls(scores, whole, creators, k=6, parts=2)  # 12 images: 6 per part


def test_a_calibration_too_small_to_split_fits_the_one_null_as_shipped() -> None:
    groups = {name: [drawing(20_000 + i, pal) for i in range(5)] for name, pal in PALETTES.items()}
    content, style = PixelEmbedder(), HistogramEmbedder()
    shipped = fit_calibration("fake", content, style, groups)
    asked = fit_calibration("fake", content, style, groups, k=50, parts=2)  # 30 images
    assert asked.content == shipped.content  # not one creator's works: those need a split
    assert "recolour_pairs" not in asked.info and "content_nulls" not in asked.info
    split = fit_calibration("fake", content, style, groups, k=3, parts=2)
    assert len(split.content.nulls) == 2 and split.info["content_nulls"] == 2
    assert split.info["neighbourhood_k"] == 3 and split.info["recolour_pairs"] >= 0
    assert split.info["id"] != shipped.info["id"]


def test_parts_need_their_edges_and_background() -> None:
    null = NullDistribution.fit(np.linspace(0, 1, 50))
    with pytest.raises(ValueError, match="edges"):
        ContentNulls((null, null))
    with pytest.raises(ValueError, match="background"):
        ContentNulls((null, null), k=3, edges=(0.5,))
    background = np.eye(4, dtype=np.float16)
    with pytest.raises(ValueError, match="ascend"):
        ContentNulls((null, null, null), 2, (0.6, 0.4), background)
    split = ContentNulls((null, null), 2, (0.5,), background)
    with pytest.raises(ValueError, match="neighbourhood"):
        split.part(float("nan"))  # a split null must not guess a query's part
    assert [split.part(v) for v in (0.2, 0.5, 0.7)] == [0, 0, 1]  # an edge is the part below


def test_content_nulls_are_equal_only_with_the_same_background_and_k() -> None:
    null = NullDistribution.fit(np.linspace(0, 1, 50))
    background = np.eye(4, dtype=np.float16)
    split = ContentNulls((null, null), 2, (0.5,), background)
    assert split == ContentNulls((null, null), 2, (0.5,), background.copy())
    other = background.copy()
    other[0, 1] = 0.5
    assert split != ContentNulls((null, null), 2, (0.5,), other)
    assert split != ContentNulls((null, null), 3, (0.5,), background)
    assert split != ContentNulls((null, null), 2, (0.4,), background)
    assert ContentNulls((null,)) == ContentNulls((null,))
    assert ContentNulls((null,)) != ContentNulls((null,), 1, (), background)


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
