"""Geometric verification (models/local.py) on real gallery drawings: a rotated, shrunk copy
pasted into a page keeps its keypoints in one placement; another drawing does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from models import local
from tests.fakes import framed

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
    copy = local.verify(query, stored)
    unrelated = local.verify(query, local.extract(other)).inliers
    assert copy.inliers >= 15
    assert copy.inliers >= 3 * max(unrelated, 1)
    assert copy.coverage >= 0.9  # the whole drawing is there


def test_a_mirrored_crop_verifies_only_mirrored_back() -> None:
    work = _open("andy-fitzsimon/four-wheel-drive.png")  # a car seen from its left
    stored = local.extract(work)
    w, h = work.size  # mirrored, then 80% of each side kept
    box = (w // 10, h // 20, w // 10 + 4 * w // 5, h // 20 + 4 * h // 5)
    query = ImageOps.mirror(work).crop(box)
    as_is = local.verify(local.extract(query), stored)
    found, strength = local.verify_query(local.extract_query(query), stored)
    assert as_is.inliers < 10 <= found.inliers and found.coverage >= 0.7
    mirrored = local.extract(ImageOps.mirror(query))
    assert strength == local.strength(found, mirrored, stored) > 0
    # the outline, in the query's own pixels: the work's keypoint box mirrored, then cropped
    (x0, y0), (x1, y1) = stored.points.min(axis=0), stored.points.max(axis=0)
    expected = [
        (w - 1 - x - box[0], y - box[1]) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    ]
    placed = local.outline_in(found, query.size)
    assert np.abs(np.subtract(placed, expected)).max() < 0.04 * query.width  # corners off it
    plain = local.verify_query(local.extract_query(work), stored)  # a copy as it is: unchanged
    assert plain[0] == local.verify(stored, stored)


def test_verification_is_deterministic_and_survives_storage() -> None:
    work = _open("jose-hevia/bomb.png")
    feats = local.extract(work)
    back = local.LocalFeatures.from_bytes(feats.to_bytes())
    np.testing.assert_array_equal(back.points, feats.points)
    np.testing.assert_array_equal(back.descriptors, feats.descriptors)
    query = local.extract(_pasted(work, -9.0, 0.8))
    found = {local.verify(query, back) for _ in range(3)}
    assert len(found) == 1 and found.pop().inliers > 0


def test_the_outline_undoes_the_resize_to_the_keypoint_scale() -> None:
    """A copy twice LONG_SIDE across is verified at half size; its outline is in its pixels."""
    work = _open("jean-victor-balin/bus.png")
    stored = local.extract(work)
    big = work.resize((work.width * 2048 // max(work.size), work.height * 2048 // max(work.size)))
    found = local.verify(local.extract(big), stored)
    (x0, y0), (x1, y1) = stored.points.min(axis=0), stored.points.max(axis=0)
    f = big.width / work.width  # the work's keypoints lie at its own pixels (under LONG_SIDE)
    expected = [(x * f, y * f) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    assert found.inliers >= 15
    assert np.abs(np.subtract(local.outline_in(found, big.size), expected)).max() < 0.02 * big.width
    assert local.outline_in(local.NOTHING, big.size) == []


def test_featureless_images_verify_nothing() -> None:
    blank = local.extract(Image.new("RGB", (64, 64), "white"))
    assert len(blank) == 0 and blank.to_bytes() == b""
    work = local.extract(_open("jose-hevia/heart.png"))
    assert local.verify(blank, work) == local.verify(work, blank) == local.NOTHING


def test_a_placement_outside_the_scale_range_is_not_a_match() -> None:
    """Matches that agree only on shrinking the work to a dot say nothing about copying."""
    rng = np.random.default_rng(1)
    desc = rng.integers(0, 255, (30, 128)).astype(np.uint8)
    points = rng.uniform(0, 400, (30, 2)).astype(np.float32)
    work = local.LocalFeatures(points, desc)
    for scale, expected in ((0.5, 30), (0.05, 0)):
        query = local.LocalFeatures((points * scale + 7).astype(np.float32), desc)
        assert local.verify(query, work).inliers == expected


def test_strength_weighs_a_count_by_the_share_and_the_coverage() -> None:
    def feats(n: int) -> local.LocalFeatures:
        return local.LocalFeatures(np.zeros((n, 2), np.float32), np.zeros((n, 128), np.uint8))

    few, many = feats(40), feats(400)
    whole, half = local.Verification(20, 1.0), local.Verification(20, 0.5)
    assert local.strength(whole, few, many) == 20 * 20 / 40  # half of the sparser side
    assert local.strength(whole, many, many) < local.strength(whole, few, many)
    assert local.strength(local.Verification(40, 1.0), few, many) > local.strength(whole, few, many)
    assert local.strength(half, few, many) == local.strength(whole, few, many) / 4
    assert local.strength(local.NOTHING, few, many) == 0.0
    assert local.strength(whole, feats(0), many) == 0.0


def test_coverage_tells_a_shared_frame_from_a_copy() -> None:
    """Two works sharing a frame place many keypoints, all on the frame; a crop of a work
    covers all of what it shows."""
    bus = framed(_open("jean-victor-balin/bus.png"))
    mail = local.extract(framed(_open("jean-victor-balin/mail.png")))
    shared = local.verify(local.extract(bus), mail)
    assert shared.inliers >= 15 and shared.coverage <= 0.5
    crop = bus.crop((0, 0, bus.width // 2, bus.height))
    assert local.verify(local.extract(crop), local.extract(bus)).coverage >= 0.9


def test_coverage_counts_the_cells_where_both_images_have_keypoints() -> None:
    """Cells of the work the query has no keypoints in (cropped away, blank, starved) are
    not held against it; cells where the query has other keypoints are."""
    rng = np.random.default_rng(3)
    centres = np.array([(x, y) for x in range(4) for y in range(4)], np.float32) * 100 + 50
    points = (np.repeat(centres, 3, axis=0) + rng.uniform(-20, 20, (48, 2))).astype(np.float32)
    desc = rng.integers(0, 255, (48, 128)).astype(np.uint8)
    work = local.LocalFeatures(points, desc)
    left = points[:, 0] < 200
    half = local.LocalFeatures(points[left] + 5, desc[left])
    assert local.verify(half, work) == local.Verification(int(left.sum()), 1.0)
    far = np.array([[900, 900], [950, 20], [20, 950]], np.float32)  # a page's other corners
    page = local.LocalFeatures(
        np.concatenate([half.points, far]),
        np.concatenate([half.descriptors, rng.integers(0, 255, (3, 128)).astype(np.uint8)]),
    )
    assert local.verify(page, work).coverage == 1.0  # no keypoints of the page over the rest
    other = rng.integers(0, 255, (int((~left).sum()), 128)).astype(np.uint8)  # not the work's
    mixed = desc.copy()
    mixed[~left] = other
    busy = local.LocalFeatures(points + 5, mixed)
    assert local.verify(busy, work) == local.Verification(int(left.sum()), 0.5)


def _keystoned(work: Image.Image, squeeze: float) -> Image.Image:
    """The work photographed at an angle: its right side shrunk by `squeeze` towards its
    middle, the uncovered corners white."""
    w, h = work.size
    grow = h * squeeze / 2 / (1 - squeeze)  # where the output's right corners sample
    quad = (0, 0, 0, h, w, h + grow, w, -grow)  # Pillow's QUAD: top left, bottom left, ...
    return work.transform(
        work.size, Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor="white"
    )


def test_a_copy_seen_at_an_angle_is_placed_by_a_homography(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A similarity fits a keystoned copy only along a band; the refit homography places the
    whole of it, and another drawing's chance placement gains nothing from the extra
    freedom (too few matches near it to refit)."""
    work = _open("jean-victor-balin/bus.png")
    stored, other = local.extract(work), local.extract(_open("jean-victor-balin/mail.png"))
    query = local.extract(_keystoned(work, 0.3))
    refined, unrelated = local.verify(query, stored), local.verify(query, other)
    monkeypatch.setattr(local, "REFINE_ROUNDS", 0)
    similarity = local.verify(query, stored)
    assert refined.inliers >= similarity.inliers + 5 and refined.coverage >= 0.9
    evidence = [local.strength(v, query, stored) for v in (refined, similarity)]
    assert evidence[0] >= 2 * evidence[1]
    assert unrelated.inliers >= 3 and local.verify(query, other) == unrelated
    assert local.verify(query, other).outline == unrelated.outline  # not compared by ==
