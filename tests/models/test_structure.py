"""Recolour detection (the copy set; the calibration's pairs within a creator): the same
drawing in other colours agrees, other drawings, textures, plain images and other shapes of
frame do not."""

from __future__ import annotations

import random

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageOps

from models.pdq import MATCH_DISTANCE, dihedral_distances, hash_batch
from models.structure import (
    RECOLOUR_AGREEMENT,
    StructureIndex,
    boundaries,
    near,
    recolour_pairs,
)


def _drawing(seed: int, size: tuple[int, int] = (256, 256)) -> Image.Image:
    """Outlined coloured shapes on white, as clip art is drawn."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = rng.randint(0, size[0] - 60), rng.randint(0, size[1] - 60)
        box = (x, y, x + rng.randint(30, 120), y + rng.randint(30, 120))
        fill = tuple(rng.randint(0, 255) for _ in range(3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=fill, outline="black")
    return img


def _recolour(img: Image.Image) -> Image.Image:
    """Other colours, same drawing: channels rotated, then inverted (PDQ sees another image)."""
    r, g, b = img.split()
    return ImageOps.invert(Image.merge("RGB", (b, r, g)))


def _texture(seed: int) -> Image.Image:
    noise = np.random.default_rng(seed).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    return Image.fromarray(noise)


def _index(*images: Image.Image) -> StructureIndex:
    index = StructureIndex()
    for k, img in enumerate(images):
        index.add(f"kept{k}", img)
    return index


def test_a_recolour_is_found_though_pdq_calls_it_another_image() -> None:
    drawing = _drawing(1)
    assert dihedral_distances(_recolour(drawing), hash_batch([drawing])).min() > MATCH_DISTANCE
    found, agreement = _index(_drawing(0), drawing, _drawing(2)).find(_recolour(drawing))
    assert found == "kept1"
    assert agreement >= RECOLOUR_AGREEMENT


@pytest.mark.parametrize("seed", range(5))
def test_other_drawings_do_not_agree(seed: int) -> None:
    found, agreement = _index(*(_drawing(100 + k) for k in range(10))).find(_drawing(seed))
    assert found == ""
    assert agreement < RECOLOUR_AGREEMENT


@pytest.mark.parametrize("seed", range(5))
def test_dense_textures_never_agree_by_chance(seed: int) -> None:
    """Noise has boundaries nearly everywhere: raw overlap is near 1, and no match."""
    assert _index(_texture(seed)).find(_texture(seed + 10))[0] == ""


def test_plain_images_and_other_frame_shapes_are_ruled_out() -> None:
    plain = Image.new("RGB", (256, 256), "white")
    ImageDraw.Draw(plain).rectangle((100, 100, 140, 140), outline="black")
    assert _index(plain).find(plain) == ("", 0.0)  # under MIN_BOUNDARY boundary pixels
    wide = _drawing(3, (384, 256))
    assert _index(wide).find(_recolour(wide).resize((256, 256)))[0] == ""


def test_the_index_grows_past_its_first_allocation() -> None:
    drawings = [_drawing(200 + k) for k in range(40)]
    index = _index(*drawings)
    assert index.find(_recolour(drawings[3]))[0] == "kept3"  # added before two growths
    assert index.find(_recolour(drawings[37]))[0] == "kept37"


def test_both_directions_must_agree() -> None:
    """A sparse drawing whose every boundary lies on a busier one's is not its recolour."""
    busy = _drawing(5)
    draw = ImageDraw.Draw(busy)
    for k in range(12):
        draw.ellipse((10 + 18 * k, 200, 24 + 18 * k, 250), fill="navy", outline="black")
    sparse = _drawing(5)
    assert _index(busy).find(_recolour(sparse))[0] == ""
    assert _index(_recolour(sparse)).find(busy)[0] == ""
    assert _index(busy).find(_recolour(busy))[0] == "kept0"


def _tricolour(colours: tuple[str, str, str], emblem: bool) -> Image.Image:
    """Three horizontal stripes, as many national flags are; with or without a drawing."""
    flag = Image.new("RGB", (300, 200), colours[0])
    draw = ImageDraw.Draw(flag)
    draw.rectangle((0, 67, 299, 133), fill=colours[1])
    draw.rectangle((0, 134, 299, 199), fill=colours[2])
    if emblem:
        flag.paste(_drawing(6, (120, 120)), (90, 40))
    return flag


def test_a_shared_layout_of_lines_across_the_frame_is_not_a_recolour() -> None:
    """Two flags of the same stripes in other colours are different works; the same flag
    with its emblem, recoloured, is not."""
    stripes = _index(_tricolour(("red", "white", "blue"), emblem=False))
    assert stripes.find(_tricolour(("black", "red", "gold"), emblem=False)) == ("", 0.0)
    emblem = _tricolour(("red", "white", "blue"), emblem=True)
    assert _index(emblem).find(_recolour(emblem))[0] == "kept0"


def test_boundaries_ignore_colour_and_near_grows_by_one_pixel() -> None:
    drawing = _drawing(4)
    same = boundaries(drawing) & boundaries(_recolour(drawing))
    assert same.sum() >= 0.9 * boundaries(drawing).sum()
    dot = np.zeros((5, 5), bool)
    dot[2, 2] = True
    assert near(dot).sum() == 5


def _blocks(seed: int) -> NDArray[np.bool_]:
    """A 64 x 64 pattern of random 2 x 2 blocks, three in ten set."""
    rng = np.random.default_rng(seed)
    return np.asarray(rng.random((32, 32)) < 0.3).repeat(2, axis=0).repeat(2, axis=1)


def test_agreement_is_counted_beyond_chance() -> None:
    """Busy patterns sharing only their left part: four in five of each one's boundaries
    fall near the other's by chance alone, so raw overlap exceeds RECOLOUR_AGREEMENT, but
    corrected for chance they agree far less. The whole pattern recoloured still agrees."""
    left = _blocks(0)
    mixed = left.copy()
    mixed[:, 40:] = _blocks(1)[:, 40:]
    kept = Image.fromarray(np.where(left, 0, 255).astype(np.uint8)).convert("RGB")
    other = Image.fromarray(np.where(mixed, 40, 220).astype(np.uint8)).convert("RGB")
    a, b = boundaries(kept), boundaries(other)
    assert (a & near(b)).sum() / a.sum() >= RECOLOUR_AGREEMENT
    assert (b & near(a)).sum() / b.sum() >= RECOLOUR_AGREEMENT
    found, agreement = _index(kept).find(other)
    assert found == ""
    assert agreement < 0.75
    same = Image.fromarray(np.where(left, 40, 220).astype(np.uint8)).convert("RGB")
    assert _index(kept).find(same)[0] == "kept0"


def test_recolour_pairs_join_a_group_s_recolours_and_nothing_across_groups() -> None:
    one, other = _drawing(1), _drawing(2)
    images = [one, _recolour(one), other, _recolour(one)]
    pairs = recolour_pairs(images, ["a", "a", "a", "b"])
    assert pairs.tolist() == [
        [False, True, False, False],
        [True, False, False, False],
        [False, False, False, False],
        [False, False, False, False],  # the same recolour, filed under another creator
    ]
