"""The PDQ-by-plainness measurement: the flat share of plain and textured images, and the
bucketed counts of close pairs split by same and other group."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.pdq_plainness import (
    CUTS,
    EDGES,
    RATE_CUT,
    bucket_rows,
    flat_share,
    pair_distances,
)
from models.pdq import MATCH_DISTANCE


def _noise(seed: int) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def test_flat_share_tells_a_plain_field_from_a_texture() -> None:
    blank = Image.new("RGB", (200, 120), "white")
    flag = Image.new("RGB", (300, 200), "red")
    ImageDraw.Draw(flag).rectangle((0, 66, 299, 133), fill="white")
    assert flat_share(blank) == 1.0
    assert flat_share(flag) > 0.9  # three flat bands: only the two seams have steps
    assert flat_share(_noise(0)) < 0.05


def _shapes(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (160, 120), "white")
    draw = ImageDraw.Draw(img)
    for x, y, w, h, grey in rng.integers(0, 100, (5, 5)):
        draw.ellipse(
            (int(x), int(y) // 2, int(x + w // 2 + 10), int(y // 2 + h // 2 + 10)),
            fill=(int(grey) * 2,) * 3,
        )
    return img


def test_pair_distances_are_zero_to_itself_and_see_flips() -> None:
    images = [_shapes(1), _shapes(2), _shapes(1).transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    d = pair_distances(images)
    assert d.shape == (3, 3)
    assert d[0, 0] == 0 and d[2, 0] <= MATCH_DISTANCE  # the mirrored copy meets its source
    assert d[0, 1] > MATCH_DISTANCE  # two different drawings are not near duplicates


def test_bucket_rows_count_pairs_by_query_plainness_and_group() -> None:
    # three images: 0 and 1 in group a, 2 in group b; distances chosen per ordered pair
    distances = np.array([[0, 40, 50], [40, 0, 100], [30, 100, 0]])
    plainness = np.array([0.1, 0.9, 1.0])
    groups = ["a", "a", "b"]
    other = bucket_rows(distances, plainness, groups, same_group=False)
    same = bucket_rows(distances, plainness, groups, same_group=True)
    assert len(other) == len(same) == len(EDGES) - 1
    first = other[0]  # image 0 (flat share 0.1) against image 2: distance 50
    assert first[:3] == ["0.0-0.2", 1, 1]
    assert first[3 : 3 + len(CUTS)] == [int(c >= 50) for c in CUTS]
    last = other[-1]  # images 1 and 2 (0.9 and 1.0: the closed last bucket)
    assert last[1:3] == [2, 3]  # 1 -> 2, and 2 -> 0 and 2 -> 1
    assert last[3] == 1  # only 2 -> 0, at 30, is within 31
    assert same[0][1:3] == [1, 1] and same[0][3 + CUTS.index(RATE_CUT)] == 1  # 0 -> 1 at 40
    assert same[-1][2] == 1  # 1 -> 0; image 2 has no other work in its group
