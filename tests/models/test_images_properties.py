"""Property tests of the image loader on mutated headers: every field of a PNG IHDR, a GIF
logical screen and image descriptor, and a JPEG frame header set to any value (checksums kept
valid, so the damage reaches the decoder). Whatever the bytes, the answer is an RGB image within
the limits or an ImageError with a message; never another exception."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from models.errors import ImageError
from models.images import ImageLimits, load_image_bytes

# Pillow warns about the large sizes some mutations claim; the loader refuses them anyway.
pytestmark = pytest.mark.filterwarnings(
    "ignore::PIL.Image.DecompressionBombWarning", "ignore::UserWarning"
)
LIMITS = ImageLimits(max_pixels=2_000_000, max_frames=50, max_decode_pixels=5_000_000)
PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def encode(image: Image.Image, image_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def image_or_image_error(data: bytes) -> None:
    """The loader's whole contract on hostile bytes."""
    try:
        loaded = load_image_bytes(data, LIMITS)
    except ImageError as exc:
        assert str(exc)
        return
    assert loaded.image.mode == "RGB"
    assert loaded.image.size == (loaded.width, loaded.height)
    assert 0 < loaded.width * loaded.height <= LIMITS.max_pixels


PNG = encode(Image.new("RGB", (12, 8), (200, 30, 30)), "PNG")
GIF = encode(
    Image.new("RGB", (12, 8), (30, 30, 200)),
    "GIF",
    save_all=True,
    append_images=[Image.new("RGB", (12, 8), (30, 200, 30))],
)
JPEG = encode(Image.new("RGB", (12, 8), (30, 200, 30)), "JPEG")
u8, u16, u32 = st.integers(0, 255), st.integers(0, 65535), st.integers(0, 2**32 - 1)


@PROPERTIES
@given(u32, u32, u8, u8, u8, u8, u8)
def test_png_with_any_ihdr(
    width: int, height: int, depth: int, colour: int, comp: int, filt: int, interlace: int
) -> None:
    body = struct.pack(">IIBBBBB", width, height, depth, colour, comp, filt, interlace)
    chunk = struct.pack(">I", 13) + b"IHDR" + body + struct.pack(">I", zlib.crc32(b"IHDR" + body))
    image_or_image_error(PNG[:8] + chunk + PNG[8 + len(chunk) :])


@PROPERTIES
@given(u16, u16, u8, u16, u16, u16, u16)
def test_gif_with_any_screen_and_frame_descriptor(
    screen_w: int, screen_h: int, flags: int, left: int, top: int, width: int, height: int
) -> None:
    data = bytearray(GIF)
    data[6:11] = struct.pack("<HHB", screen_w, screen_h, flags)
    at = data.index(b",", 13)  # the first image descriptor
    data[at + 1 : at + 9] = struct.pack("<HHHH", left, top, width, height)
    image_or_image_error(bytes(data))


@PROPERTIES
@given(u8, u16, u16, st.integers(0, 6), st.binary(min_size=9, max_size=9))
def test_jpeg_with_any_frame_header(
    precision: int, height: int, width: int, components: int, component_bytes: bytes
) -> None:
    data = bytearray(JPEG)
    at = data.index(b"\xff\xc0") + 4
    header = struct.pack(">BHHB", precision, height, width, components) + component_bytes
    data[at : at + len(header)] = header
    image_or_image_error(bytes(data))


MAGICS = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM"]


@PROPERTIES
@given(st.sampled_from(MAGICS), st.binary(max_size=2048))
def test_a_magic_number_then_anything(magic: bytes, rest: bytes) -> None:
    image_or_image_error(magic + rest)


@PROPERTIES
@given(st.sampled_from([PNG, GIF, JPEG]), st.integers(0, 400), st.binary(min_size=1, max_size=64))
def test_any_splice_into_a_valid_file(seed: bytes, at: int, junk: bytes) -> None:
    at = min(at, len(seed))
    image_or_image_error(seed[:at] + junk + seed[at:])
