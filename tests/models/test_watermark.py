"""Watermark embedding and reading, payload coding, and generators' watermarks, with the
real `invisible-watermark` code on small images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage import data as samples

from models import marks, payload
from models.watermark import METHODS, CannotCarry, bgr

SECRET = b"test-secret-0123456789abcdef!!"


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.fromarray(samples.astronaut()).resize((320, 320))


@given(st.integers(0, payload.MAX_ID))
@settings(max_examples=50, deadline=None)
def test_payload_round_trips_and_corrects_the_weakest_bits(payload_id: int) -> None:
    bits = payload.encode(SECRET, payload_id)
    soft = np.where(bits == 1, 1.0, -1.0)
    soft[[3, 20]] *= -0.1  # two bits read wrong, but weakly
    decoded = payload.decode(SECRET, soft)
    assert decoded == payload.Decoded(payload_id, 2)


def test_payload_under_another_secret_does_not_decode() -> None:
    """A third party without the secret cannot make a valid payload (here: 1 in 65536 ids
    would pass by chance; none of these 200 do)."""
    forged = [payload.encode(b"someone-else's-secret-012345", i) for i in range(200)]
    assert [payload.decode(SECRET, np.where(b == 1, 1.0, -1.0)) for b in forged].count(None) >= 199


def test_payload_rejects_out_of_range_ids_and_bad_input() -> None:
    with pytest.raises(ValueError):
        payload.encode(SECRET, payload.MAX_ID + 1)
    assert payload.decode(SECRET, np.full(31, 1.0)) is None
    assert payload.decode(SECRET, np.full(32, np.nan)) is None
    assert payload.decode(SECRET, np.zeros(32)) is None  # no information, not the word 0


@pytest.mark.parametrize("method", ["dwtDct", "dwtDctSvd"])
def test_vectorised_reader_reads_what_the_package_reads(method: str, photo: Image.Image) -> None:
    from imwatermark import WatermarkDecoder  # type: ignore[import-untyped]

    marked = METHODS[method].embed(photo, payload.encode(SECRET, 4242))
    theirs = np.array(WatermarkDecoder("bits", 32).decode(bgr(marked), method), bool)
    ours = METHODS[method].soft_bits(marked, 32) > 0
    assert (theirs == ours).all()
    found = marks.read(marked, SECRET, [method])
    assert [(f.kind, f.payload_id) for f in found] == [("styletrace", 4242)]


def test_watermark_survives_a_png_round_trip_and_an_unmarked_image_reads_nothing(
    photo: Image.Image,
) -> None:
    marked = METHODS["dwtDctSvd"].embed(photo, payload.encode(SECRET, 7))
    buf = io.BytesIO()
    marked.save(buf, format="PNG")
    again = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    assert [f.payload_id for f in marks.read(again, SECRET, ["dwtDctSvd"])] == [7]
    assert marks.read(photo, SECRET, ["dwtDctSvd"]) == []


def test_images_too_small_cannot_carry_and_read_nothing() -> None:
    small = Image.new("RGB", (200, 200), "white")
    with pytest.raises(CannotCarry):
        METHODS["dwtDct"].embed(small, payload.encode(SECRET, 1))
    assert marks.read(small, SECRET, ["dwtDct"]) == []


@pytest.mark.parametrize("rgb_as_bgr", [False, True])
def test_stable_diffusion_xl_watermark_is_named(photo: Image.Image, rgb_as_bgr: bool) -> None:
    """The SDXL message embedded as the reference code does: generative-models converts to
    BGR, diffusers hands RGB over as is."""
    from imwatermark import WatermarkEncoder

    encoder = WatermarkEncoder()
    encoder.set_watermark("bits", [int(b) for b in marks.GENERATOR_MARKS[0].bits])
    pixels = np.asarray(photo) if rgb_as_bgr else bgr(photo)
    out = encoder.encode(np.ascontiguousarray(pixels), "dwtDct")
    image = Image.fromarray(out if rgb_as_bgr else np.ascontiguousarray(out[:, :, ::-1]))
    found = marks.read(image, None, ["dwtDct"])
    assert [f.kind for f in found] == ["stable-diffusion-xl"]
    assert found[0].confidence > 0.999


def test_stable_diffusion_v1_text_watermark_is_named(photo: Image.Image) -> None:
    from imwatermark import WatermarkEncoder

    encoder = WatermarkEncoder()
    encoder.set_watermark("bytes", b"StableDiffusionV1")
    image = Image.fromarray(np.ascontiguousarray(encoder.encode(bgr(photo), "dwtDct")[:, :, ::-1]))
    assert [f.kind for f in marks.read(image, SECRET, ["dwtDct"])] == ["stable-diffusion-v1"]


def test_flat_and_noise_images_read_no_watermark() -> None:
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8))
    for image in (Image.new("RGB", (300, 300), "white"), Image.new("RGB", (300, 300)), noise):
        assert marks.read(image, SECRET, ["dwtDct"]) == []
