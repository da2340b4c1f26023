"""Each copy-detection edit, the dev sets' and the held-out ones, returns a changed RGB image,
reproducibly from its seed."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from benchmarks.edits import EDITS, HELD_OUT

ALL = {**EDITS, **HELD_OUT}


def _work() -> Image.Image:
    """An asymmetric, colourful drawing on white, like a clip-art work."""
    img = Image.new("RGB", (160, 120), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((10, 10, 70, 60), fill=(220, 40, 40), outline=(0, 0, 0), width=3)
    draw.ellipse((80, 30, 150, 110), fill=(40, 90, 220))
    draw.polygon([(20, 110), (60, 70), (70, 110)], fill=(30, 160, 60))
    for x in range(160):  # a shaded strip: more colours than a palette re-save keeps
        draw.line((x, 112, x, 119), fill=(x, 255 - x, (3 * x) % 256))
    return img


def _mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def test_edits_are_listed_in_a_fixed_order() -> None:
    assert list(EDITS) == [
        "jpeg", "crop50", "rescale", "rotate", "flip", "colour_jitter",
        "grayscale", "blur", "text_overlay", "border", "screenshot", "combo",
    ]  # fmt: skip


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_edit_returns_rgb(name: str, mode: str) -> None:
    out = ALL[name](_work().convert(mode), random.Random(0))
    assert out.mode == "RGB"
    assert out.width > 0 and out.height > 0


@pytest.mark.parametrize("name", list(ALL))
def test_edit_is_deterministic_for_a_seed(name: str) -> None:
    first = ALL[name](_work(), random.Random(7))
    second = ALL[name](_work(), random.Random(7))
    assert first.size == second.size
    assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize("name", [n for n in ALL if n != "posterize"])  # its own test below
@pytest.mark.parametrize("seed", range(5))
def test_edit_changes_the_image(name: str, seed: int) -> None:
    source = _work()
    out = ALL[name](source, random.Random(seed))
    assert out.size != source.size or _mean_abs_diff(out, source) > 2.0


@pytest.mark.parametrize("name", list(ALL))
def test_edit_leaves_its_input_untouched(name: str) -> None:
    source = _work()
    ALL[name](source, random.Random(0))
    assert source.tobytes() == _work().tobytes()


@pytest.mark.parametrize("size", [(40, 200), (30, 400), (400, 30)])
def test_screenshot_handles_narrow_images(size: tuple[int, int]) -> None:
    img = Image.new("RGB", size, (200, 30, 30))
    for seed in range(20):
        out = EDITS["screenshot"](img, random.Random(seed))
        assert out.width >= img.width and out.height > img.height


def test_held_out_edits_are_not_the_dev_sets_edits() -> None:
    assert not set(HELD_OUT) & set(EDITS) and len(HELD_OUT) == 10


@pytest.mark.parametrize("seed", range(10))
def test_held_out_geometry(seed: int) -> None:
    work = _work()  # 160 x 120
    stretched = HELD_OUT["stretch"](work, random.Random(seed))
    ratio = (stretched.width / stretched.height) / (work.width / work.height)
    assert 0.6 <= ratio <= 0.81 or 1 / 0.81 <= ratio <= 1 / 0.6
    cropped = HELD_OUT["mirror_crop"](work, random.Random(seed))
    assert 0.6 <= cropped.width * cropped.height / (160 * 120) <= 0.82
    square = HELD_OUT["blur_fill"](work, random.Random(seed))
    assert square.size == (160, 160)
    bigger = HELD_OUT["upscale_sharpen"](work, random.Random(seed))
    assert 1.5 * 160 - 1 <= bigger.width <= 2.5 * 160 + 1


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("size", [(160, 120), (120, 160)])
def test_tilt_crops_away_the_corners_and_keystone_leaves_them(
    seed: int, size: tuple[int, int]
) -> None:
    grey = Image.new("RGB", size, (90, 90, 90))  # the fill is white: a wedge would show
    tilted = HELD_OUT["tilt"](grey, random.Random(seed))
    assert all(89 <= lo <= hi <= 91 for lo, hi in tilted.getextrema())  # no fill at all
    assert 0.8 * size[0] <= tilted.width < size[0]
    keystone = HELD_OUT["perspective"](grey, random.Random(seed))
    w, h = size
    corners = [(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)]
    assert sum(keystone.getpixel(c) == (255, 255, 255) for c in corners) == 2  # the shrunk side


def test_palette_noise_and_stickers() -> None:
    work = _work()
    assert len(work.getcolors(1000) or []) > 100  # the shaded strip
    palette = HELD_OUT["posterize"](work, random.Random(0))
    colours = palette.getcolors(256)
    assert colours is not None and len(colours) <= 16
    plain = work.quantize(len(colours)).convert("RGB")  # the same palette size, undithered
    assert palette.tobytes() != plain.tobytes()  # dithering mixes colours in the shading
    grainy = HELD_OUT["noise"](work, random.Random(0))
    assert 4 < _mean_abs_diff(grainy, work) < 20
    covered = ImageChops.difference(HELD_OUT["stickers"](work, random.Random(0)), work)
    changed = (np.asarray(covered).max(axis=2) > 0).mean()
    assert 0.03 < changed <= 0.2  # stickers over 10-20% of it, some of the same colour


@pytest.mark.parametrize("seed", range(10))
def test_four_corners_draws_every_corner_in_and_keeps_the_middle(seed: int) -> None:
    from benchmarks.placement import four_corners

    grey = Image.new("RGB", (160, 120), (90, 90, 90))
    view = four_corners(grey, random.Random(seed))
    assert view.size == grey.size
    corners = [(0, 0), (159, 0), (159, 119), (0, 119)]
    white = [view.getpixel(c) == (255, 255, 255) for c in corners]
    centre = view.getpixel((80, 60))
    assert sum(white) >= 3 and centre == (90, 90, 90)  # a corner may move in by under a pixel
    assert four_corners(grey, random.Random(seed)).tobytes() == view.tobytes()
