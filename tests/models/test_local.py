"""Geometric verification (models/local.py) on real gallery drawings: a rotated, shrunk copy
pasted into a page keeps its keypoints in one placement; another drawing does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from models import local

GALLERY = Path(__file__).resolve().parents[2] / "examples" / "gallery"


def _open(rel: str) -> Image.Image:
    return Image.open(GALLERY / rel).convert("RGB")


def _pasted(work: Image.Image, angle: float, scale: float) -> Image.Image:
    """The work rotated, scaled and pasted off-centre into a larger grey page."""
    small = work.resize((round(work.width * scale), round(work.height * scale)))
    turned = small.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor="white")
    page = Image.new("RGB", (work.width * 2, work.height * 2), (230, 230, 230))
    page.paste(turned, (work.width // 3, work.height // 5))
    return page


def test_a_rotated_pasted_copy_keeps_one_placement() -> None:
    work = _open("jean-victor-balin/bus.png")
    other = _open("gerald-g/hamburger.png")
    query = local.extract(_pasted(work, 17.0, 0.6))
    stored = local.extract(work)
    assert len(stored) > 20
    copy = local.inliers(query, stored)
    unrelated = local.inliers(query, local.extract(other))
    assert copy >= 15
    assert copy >= 3 * max(unrelated, 1)


def test_verification_is_deterministic_and_survives_storage() -> None:
    work = _open("jose-hevia/bomb.png")
    feats = local.extract(work)
    back = local.LocalFeatures.from_bytes(feats.to_bytes())
    np.testing.assert_array_equal(back.points, feats.points)
    np.testing.assert_array_equal(back.descriptors, feats.descriptors)
    query = local.extract(_pasted(work, -9.0, 0.8))
    counts = {local.inliers(query, back) for _ in range(3)}
    assert len(counts) == 1 and counts.pop() > 0


def test_featureless_images_verify_nothing() -> None:
    blank = local.extract(Image.new("RGB", (64, 64), "white"))
    assert len(blank) == 0 and blank.to_bytes() == b""
    work = local.extract(_open("jose-hevia/heart.png"))
    assert local.inliers(blank, work) == 0 and local.inliers(work, blank) == 0


def test_a_placement_outside_the_scale_range_is_not_a_match() -> None:
    """Matches that agree only on shrinking the work to a dot say nothing about copying."""
    rng = np.random.default_rng(1)
    desc = rng.integers(0, 255, (30, 128)).astype(np.uint8)
    points = rng.uniform(0, 400, (30, 2)).astype(np.float32)
    work = local.LocalFeatures(points, desc)
    for scale, expected in ((0.5, 30), (0.05, 0)):
        query = local.LocalFeatures((points * scale + 7).astype(np.float32), desc)
        assert local.inliers(query, work) == expected


def test_strength_weighs_a_count_by_the_share_it_explains() -> None:
    def feats(n: int) -> local.LocalFeatures:
        return local.LocalFeatures(np.zeros((n, 2), np.float32), np.zeros((n, 128), np.uint8))

    few, many = feats(40), feats(400)
    assert local.strength(20, few, many) == 20 * 20 / 40  # half of the sparser side
    assert local.strength(20, many, many) < local.strength(20, few, many)
    assert local.strength(40, few, many) > local.strength(20, few, many)
    assert local.strength(0, few, many) == 0.0 and local.strength(5, feats(0), many) == 0.0
