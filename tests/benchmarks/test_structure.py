"""Recolour detection for the copy set: the same drawing in other colours agrees, other
drawings, textures, plain images and other shapes of frame do not."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from benchmarks.structure import RECOLOUR_AGREEMENT, StructureIndex, boundaries, near
from models.pdq import MATCH_DISTANCE, dihedral_distances, hash_batch


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
    ImageDraw.Draw(plain).line((100, 128, 140, 128), fill="black")
    assert _index(plain).find(plain) == ("", 0.0)  # under MIN_BOUNDARY boundary pixels
    wide = _drawing(3, (384, 256))
    assert _index(wide).find(_recolour(wide).resize((256, 256)))[0] == ""


def test_the_index_grows_past_its_first_allocation() -> None:
    drawings = [_drawing(200 + k) for k in range(40)]
    index = _index(*drawings)
    assert index.find(_recolour(drawings[37]))[0] == "kept37"


def test_boundaries_ignore_colour_and_near_grows_by_one_pixel() -> None:
    drawing = _drawing(4)
    same = boundaries(drawing) & boundaries(_recolour(drawing))
    assert same.sum() >= 0.9 * boundaries(drawing).sum()
    dot = np.zeros((5, 5), bool)
    dot[2, 2] = True
    assert near(dot).sum() == 5
