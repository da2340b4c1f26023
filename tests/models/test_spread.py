"""The spreadTile watermark and its convolutional code: the payload survives the edits issue
10 targets (JPEG q50, resize 0.75, crop to 80 % of the area) on a photo and on flat art,
the copy stays above 38 dB PSNR, and unmarked images read nothing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from skimage import data as samples

from models import convcode, marks, payload, spread_read
from models.spread_tile import frame_luma
from models.watermark import METHODS, CannotCarry

SECRET = b"test-secret-0123456789abcdef!!"
PAYLOAD_ID = 31337


def icon() -> Image.Image:
    """Flat art: solid shapes with black outlines on white, most of it saturated."""
    img = Image.new("RGB", (360, 320), "white")
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((20, 30, 340, 290), 40, fill=(250, 200, 0), outline=0, width=8)
    draw.polygon([(20, 60), (180, 190), (340, 60)], fill=(230, 170, 0), outline=0, width=8)
    draw.ellipse((130, 200, 230, 280), fill=(40, 90, 200), outline=0, width=6)
    return img


def photo() -> Image.Image:
    return Image.fromarray(samples.astronaut()).resize((384, 384))


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def crop(img: Image.Image, area: float, left: int, top: int) -> Image.Image:
    side = area**0.5
    return img.crop((left, top, left + round(img.width * side), top + round(img.height * side)))


EDITS = {
    "none": lambda img: img,
    "jpeg q50": lambda img: jpeg(img, 50),
    "resize 0.75": lambda img: img.resize(
        (round(img.width * 0.75), round(img.height * 0.75)), Image.Resampling.LANCZOS
    ),
    "crop 80%": lambda img: crop(img, 0.8, 13, 29),
    "crop 80% + jpeg q70": lambda img: jpeg(crop(img, 0.8, 31, 3), 70),
}


def psnr(a: Image.Image, b: Image.Image) -> float:
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float(10 * np.log10(255**2 / mse))


@pytest.fixture(scope="module", params=["photo", "flat art"])
def marked(request: pytest.FixtureRequest) -> tuple[Image.Image, Image.Image]:
    original = photo() if request.param == "photo" else icon()
    bits = payload.encode(SECRET, PAYLOAD_ID)
    return original, METHODS["spreadTile"].embed(original, bits)


@given(st.lists(st.integers(0, 1), min_size=32, max_size=32), st.data())
@settings(max_examples=50, deadline=None)
def test_viterbi_corrects_any_seven_wrong_coded_bits(bits: list[int], data: st.DataObject) -> None:
    """The code's free distance is 15: any 7 hard errors decode to the sent payload."""
    payload_bits = np.array(bits, np.uint8)
    soft = 2.0 * convcode.encode(payload_bits) - 1.0
    wrong = data.draw(st.sets(st.integers(0, len(soft) - 1), min_size=7, max_size=7))
    soft[list(wrong)] *= -1
    assert (convcode.decode(soft) == payload_bits).all()


def test_the_copy_stays_above_38_db(marked: tuple[Image.Image, Image.Image]) -> None:
    original, copy = marked
    assert copy.size == original.size
    assert psnr(original, copy) >= 38.0


@pytest.mark.parametrize("edit", EDITS)
def test_payload_survives_the_targeted_edits(
    marked: tuple[Image.Image, Image.Image], edit: str
) -> None:
    found = marks.read(EDITS[edit](marked[1]), SECRET, ["spreadTile"])
    assert [(f.kind, f.payload_id, f.method) for f in found] == [
        ("styletrace", PAYLOAD_ID, "spreadTile")
    ]


def test_unmarked_images_read_nothing() -> None:
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8))
    for image in (photo(), icon(), Image.new("RGB", (300, 300), "white"), noise):
        assert marks.read(image, SECRET, ["spreadTile"]) == []


def test_an_image_without_any_tile_gives_no_bits_at_all() -> None:
    """No period, no word: reading must not fall back to the all-zero payload."""
    white = np.full((300, 300, 3), 255, np.float32)
    assert spread_read.read(frame_luma(white), convcode.coded_length(32)) is None
    assert not METHODS["spreadTile"].soft_bits(Image.new("RGB", (300, 300), "white"), 32).any()


def test_images_narrower_than_a_tile_cannot_carry_it() -> None:
    with pytest.raises(CannotCarry):
        METHODS["spreadTile"].embed(Image.new("RGB", (900, 100)), payload.encode(SECRET, 1))


def test_the_false_positive_rate_counts_every_word_tried() -> None:
    assert marks.false_positive_rate(["spreadTile"]) == 2**-16
    assert marks.false_positive_rate(["spreadTile", "dwtDctSvd"]) == 5 * 2**-16
