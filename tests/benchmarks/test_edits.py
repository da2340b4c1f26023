"""Each copy-detection edit returns a changed RGB image, reproducibly from its seed."""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from benchmarks.edits import EDITS


def _work() -> Image.Image:
    """An asymmetric, colourful drawing on white, like a clip-art work."""
    img = Image.new("RGB", (160, 120), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((10, 10, 70, 60), fill=(220, 40, 40), outline=(0, 0, 0), width=3)
    draw.ellipse((80, 30, 150, 110), fill=(40, 90, 220))
    draw.polygon([(20, 110), (60, 70), (70, 110)], fill=(30, 160, 60))
    return img


def _mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def test_edits_are_listed_in_a_fixed_order() -> None:
    assert list(EDITS) == [
        "jpeg", "crop50", "rescale", "rotate", "flip", "colour_jitter",
        "grayscale", "blur", "text_overlay", "border", "screenshot", "combo",
    ]  # fmt: skip


@pytest.mark.parametrize("name", list(EDITS))
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_edit_returns_rgb(name: str, mode: str) -> None:
    out = EDITS[name](_work().convert(mode), random.Random(0))
    assert out.mode == "RGB"
    assert out.width > 0 and out.height > 0


@pytest.mark.parametrize("name", list(EDITS))
def test_edit_is_deterministic_for_a_seed(name: str) -> None:
    first = EDITS[name](_work(), random.Random(7))
    second = EDITS[name](_work(), random.Random(7))
    assert first.size == second.size
    assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize("name", list(EDITS))
@pytest.mark.parametrize("seed", range(5))
def test_edit_changes_the_image(name: str, seed: int) -> None:
    source = _work()
    out = EDITS[name](source, random.Random(seed))
    assert out.size != source.size or _mean_abs_diff(out, source) > 2.0


@pytest.mark.parametrize("name", list(EDITS))
def test_edit_leaves_its_input_untouched(name: str) -> None:
    source = _work()
    EDITS[name](source, random.Random(0))
    assert source.tobytes() == _work().tobytes()


@pytest.mark.parametrize("size", [(40, 200), (30, 400), (400, 30)])
def test_screenshot_handles_narrow_images(size: tuple[int, int]) -> None:
    img = Image.new("RGB", size, (200, 30, 30))
    for seed in range(20):
        out = EDITS["screenshot"](img, random.Random(seed))
        assert out.width >= img.width and out.height > img.height
