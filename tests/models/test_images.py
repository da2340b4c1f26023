"""Tests for models.images: every input is generated here with Pillow/numpy, none is committed."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import EpsImagePlugin, Image, ImageFile

from models.errors import ImageError, ImageTooLarge, UnsupportedImage
from models.images import ImageLimits, LoadedImage, load_image_bytes, load_image_file

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


def encode(image: Image.Image, image_format: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def quadrants(width: int = 32, height: int = 24) -> Image.Image:
    """Red, green / blue, white quadrants: any flip, rotation or colour swap shows."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(GREEN, (width // 2, 0, width, height // 2))
    image.paste(BLUE, (0, height // 2, width // 2, height))
    image.paste(WHITE, (width // 2, height // 2, width, height))
    return image


def png_chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


def png_claiming(width: int, height: int) -> bytes:
    """A small, well-formed PNG whose header claims any size; its pixel data is empty."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), actual


def pixel(loaded: LoadedImage, x: int, y: int) -> tuple[int, ...]:
    value = loaded.image.getpixel((x, y))
    assert isinstance(value, tuple)
    return value


ROUNDTRIPS = [
    ("PNG", {}, "PNG", 0),
    ("JPEG", {"quality": 95}, "JPEG", 12),
    ("WEBP", {"lossless": True}, "WEBP", 0),
    ("GIF", {}, "GIF", 0),
    ("TIFF", {}, "TIFF", 0),
    ("TIFF", {"compression": "tiff_lzw"}, "TIFF", 0),
    ("BMP", {}, "BMP", 0),
]


@pytest.mark.parametrize(("save_as", "params", "reported", "tolerance"), ROUNDTRIPS)
def test_supported_formats_roundtrip(
    save_as: str, params: dict[str, Any], reported: str, tolerance: int
) -> None:
    loaded = load_image_bytes(encode(quadrants(), save_as, **params))
    assert (loaded.format, loaded.image.mode, loaded.image.size) == (reported, "RGB", (32, 24))
    assert (loaded.width, loaded.height) == (32, 24)
    for (x, y), colour in {(4, 4): RED, (28, 4): GREEN, (4, 20): BLUE, (28, 20): WHITE}.items():
        assert_close(pixel(loaded, x, y), colour, tolerance)


def test_sha256_is_of_the_original_bytes() -> None:
    data = encode(quadrants(), "PNG")
    assert load_image_bytes(data).sha256 == hashlib.sha256(data).hexdigest()


def test_load_image_file_accepts_str_and_path(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(encode(quadrants(), "JPEG"))
    assert load_image_file(path).image.size == load_image_file(str(path)).image.size == (32, 24)


@pytest.mark.parametrize("save_as", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_exif_orientation_6_rotates_clockwise(save_as: str) -> None:
    image = Image.new("RGB", (40, 20), RED)
    image.paste(BLUE, (20, 0, 40, 20))  # left half red, right half blue
    exif = Image.Exif()
    exif[0x0112] = 6
    loaded = load_image_bytes(encode(image, save_as, exif=exif.tobytes()))
    assert (loaded.width, loaded.height) == (20, 40)
    assert_close(pixel(loaded, 10, 5), RED, 12)  # the left edge is now the top
    assert_close(pixel(loaded, 10, 35), BLUE, 12)


@pytest.mark.parametrize("save_as", ["PNG", "WEBP", "TIFF"])
def test_alpha_is_composited_on_white(save_as: str) -> None:
    image = Image.new("RGBA", (3, 1))
    image.putdata([(255, 0, 0, 0), (0, 0, 255, 255), (0, 0, 0, 128)])
    params = {"lossless": True} if save_as == "WEBP" else {}
    loaded = load_image_bytes(encode(image, save_as, **params))
    assert pixel(loaded, 0, 0) == WHITE
    assert pixel(loaded, 1, 0) == BLUE
    assert_close(pixel(loaded, 2, 0), (127, 127, 127), 1)


@pytest.mark.parametrize("save_as", ["PNG", "GIF"])
def test_palette_transparency_becomes_white(save_as: str) -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([*RED, *BLUE])
    image.putdata([0, 1])
    loaded = load_image_bytes(encode(image, save_as, transparency=0))
    assert (pixel(loaded, 0, 0), pixel(loaded, 1, 0)) == (WHITE, BLUE)


def test_palette_with_alpha_pa_mode() -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([*RED, *BLUE])
    image.putdata([0, 1])
    image.info["transparency"] = bytes([0, 255])  # per-entry alpha, as in PNG tRNS
    loaded = load_image_bytes(encode(image, "PNG"))
    assert (pixel(loaded, 0, 0), pixel(loaded, 1, 0)) == (WHITE, BLUE)


@pytest.mark.parametrize("save_as", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb(save_as: str) -> None:
    image = Image.new("CMYK", (8, 8), (255, 0, 0, 0))  # pure cyan
    image.paste((0, 0, 0, 0), (4, 0, 8, 8))  # no ink: white
    loaded = load_image_bytes(encode(image, save_as))
    assert_close(pixel(loaded, 1, 4), (0, 255, 255), 12)
    assert_close(pixel(loaded, 6, 4), WHITE, 12)


@pytest.mark.parametrize("save_as", ["PNG", "TIFF"])
def test_16_bit_grey_is_scaled_not_clipped(save_as: str) -> None:
    samples = np.array([[0, 32768, 65535]], dtype=np.uint16)
    loaded = load_image_bytes(encode(Image.fromarray(samples), save_as))
    assert [pixel(loaded, x, 0) for x in range(3)] == [BLACK, (128, 128, 128), WHITE]


def test_32_bit_integer_grey_uses_16_bit_range() -> None:
    samples = np.array([[-5, 32768, 65535, 1_000_000]], dtype=np.int32)
    loaded = load_image_bytes(encode(Image.fromarray(samples), "TIFF"))
    assert [pixel(loaded, x, 0)[0] for x in range(4)] == [0, 128, 255, 255]


@pytest.mark.parametrize(
    ("values", "expected"), [([0.0, 0.5, 1.0], [0, 128, 255]), ([0.0, 128.0, 300.0], [0, 128, 255])]
)
def test_float_grey_in_unit_or_byte_range(values: list[float], expected: list[int]) -> None:
    samples = np.array([values], dtype=np.float32)
    loaded = load_image_bytes(encode(Image.fromarray(samples), "TIFF"))
    assert [pixel(loaded, x, 0)[0] for x in range(3)] == expected


def test_grey_with_alpha() -> None:
    image = Image.new("LA", (2, 1))
    image.putdata([(0, 0), (0, 255)])
    loaded = load_image_bytes(encode(image, "PNG"))
    assert (pixel(loaded, 0, 0), pixel(loaded, 1, 0)) == (WHITE, BLACK)


@pytest.mark.parametrize(("mode", "save_as"), [("1", "PNG"), ("1", "BMP"), ("L", "JPEG")])
def test_bilevel_and_grey_become_rgb(mode: str, save_as: str) -> None:
    image = Image.new(mode, (4, 4), 0)
    image.paste(255, (2, 0, 4, 4))
    loaded = load_image_bytes(encode(image, save_as))
    assert loaded.image.mode == "RGB"
    assert_close(pixel(loaded, 0, 0), BLACK, 2)
    assert_close(pixel(loaded, 3, 0), WHITE, 2)


@pytest.mark.parametrize("size", [(1, 1), (1, 5000), (5000, 1)])
def test_extreme_shapes(size: tuple[int, int]) -> None:
    loaded = load_image_bytes(encode(Image.new("RGB", size, GREEN), "PNG"))
    assert (loaded.width, loaded.height) == size


def test_animated_gif_uses_first_frame() -> None:
    frames = [Image.new("RGB", (6, 6), colour) for colour in (RED, GREEN, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 3
    assert pixel(load_image_bytes(data), 3, 3) == RED


@pytest.mark.parametrize("save_as", ["PNG", "WEBP"])
def test_animated_png_and_webp_use_first_frame(save_as: str) -> None:
    frames = [Image.new("RGB", (6, 6), colour) for colour in (RED, GREEN, BLUE)]
    data = encode(frames[0], save_as, save_all=True, append_images=frames[1:], lossless=True)
    assert pixel(load_image_bytes(data), 3, 3) == RED


def test_multi_page_tiff_uses_first_page() -> None:
    pages = [Image.new("RGB", (10, 10), RED), Image.new("RGB", (20, 20), BLUE)]
    loaded = load_image_bytes(encode(pages[0], "TIFF", save_all=True, append_images=pages[1:]))
    assert (loaded.width, loaded.height, pixel(loaded, 5, 5)) == (10, 10, RED)


@pytest.mark.parametrize("save_as", ["GIF", "TIFF", "WEBP"])
def test_frame_cap(save_as: str) -> None:
    frames = [Image.new("RGB", (4, 4), colour) for colour in (RED, GREEN, BLUE)]
    data = encode(frames[0], save_as, save_all=True, append_images=frames[1:])
    assert load_image_bytes(data, ImageLimits(max_frames=3)).width == 4
    with pytest.raises(ImageTooLarge, match="more than 2 frames"):
        load_image_bytes(data, ImageLimits(max_frames=2))


@pytest.mark.parametrize("save_as", ["GIF", "TIFF", "WEBP"])
def test_decode_budget_counts_pixels_across_frames(save_as: str) -> None:
    """Three 10x10 frames declare 300 pixels: a 299-pixel budget refuses them before decoding,
    naming the setting; the frame cap alone would have let them through."""
    frames = [Image.new("RGB", (10, 10), colour) for colour in (RED, GREEN, BLUE)]
    data = encode(frames[0], save_as, save_all=True, append_images=frames[1:])
    assert load_image_bytes(data, ImageLimits(max_decode_pixels=300)).width == 10
    with pytest.raises(ImageTooLarge, match=r"more than 2 frames .* of 10x10.*MAX_DECODE_PIXELS"):
        load_image_bytes(data, ImageLimits(max_decode_pixels=299))


def test_decode_budget_never_refuses_a_single_frame() -> None:
    """One frame is governed by the pixel limit alone, whatever the budget."""
    data = encode(Image.new("RGB", (10, 10)), "PNG")
    assert load_image_bytes(data, ImageLimits(max_decode_pixels=1)).width == 10


def progressive_jpeg(extra_scans: int = 0) -> bytes:
    """A progressive JPEG (about ten scans), its last scan repeated `extra_scans` more times:
    the shape of a scan bomb, which makes the decoder re-walk every block once per scan."""
    data = encode(
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)),
        "JPEG",
        progressive=True,
    )
    last_scan = data[data.rindex(b"\xff\xda") : -2]
    return data[:-2] + last_scan * extra_scans + b"\xff\xd9"


def test_jpeg_scan_limit_refuses_a_scan_bomb_before_decoding() -> None:
    """An ordinary progressive JPEG loads; one with hundreds of scans is refused, naming the
    count and the setting; the limit is the setting's, not a constant."""
    ordinary = progressive_jpeg()
    scans = ordinary.count(b"\xff\xda")
    assert 2 < scans <= 20
    assert load_image_bytes(ordinary).width == 64
    with pytest.raises(
        ImageTooLarge, match=rf"{scans} scans.*limit of {scans - 1}.*MAX_JPEG_SCANS"
    ):
        load_image_bytes(ordinary, ImageLimits(max_jpeg_scans=scans - 1))
    with pytest.raises(ImageTooLarge, match=r"JPEG has \d+ scans"):
        load_image_bytes(progressive_jpeg(extra_scans=500))


class FakeClock:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_decode_clock_stops_a_slow_decode_between_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a clock that moves a second per read, a 5 s budget stops a multi-read decode
    part-way with a message naming the setting; 0 means no limit; a wider budget loads."""
    pixels = np.random.default_rng(1).integers(0, 255, (256, 256, 3), np.uint8)
    data = encode(Image.fromarray(pixels), "PNG")  # ~190 KiB of noise: dozens of 4 KiB reads
    monkeypatch.setattr("models.images._clock", FakeClock())
    with pytest.raises(ImageTooLarge, match=r"longer than the 5 s limit.*MAX_DECODE_SECONDS"):
        load_image_bytes(data, ImageLimits(max_decode_seconds=5))
    assert load_image_bytes(data, ImageLimits(max_decode_seconds=0)).width == 256
    assert load_image_bytes(data, ImageLimits(max_decode_seconds=1000)).width == 256


def test_empty_bytes() -> None:
    with pytest.raises(UnsupportedImage, match="empty"):
        load_image_bytes(b"")


@pytest.mark.parametrize("save_as", ["PNG", "JPEG", "GIF", "WEBP", "AVIF", "TIFF", "BMP"])
def test_truncated_images_raise(save_as: str) -> None:
    data = encode(quadrants(256, 256), save_as)
    with pytest.raises(UnsupportedImage):
        load_image_bytes(data[: len(data) // 2])


def test_random_bytes() -> None:
    data = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(UnsupportedImage, match="not an image"):
        load_image_bytes(data)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(40), "ZIP"),
        (b"<html><body>not found</body></html>", "HTML"),
        (b"\n<!DOCTYPE html>\n<html lang=en>", "HTML"),
        (b"just some words\n", "text"),
        (b"\x1f\x8b\x08\x00" + bytes(20), "gzip"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
    ],
)
def test_disguised_files_are_named(data: bytes, named: str) -> None:
    with pytest.raises(UnsupportedImage, match=named):
        load_image_bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    ],
)
def test_svg_is_refused_with_advice(data: bytes) -> None:
    with pytest.raises(UnsupportedImage, match=r"SVG is a vector format.*rasterise"):
        load_image_bytes(data)


@pytest.mark.parametrize(("save_as", "named"), [("ICO", "ICO"), ("PPM", "supported formats")])
def test_other_pillow_formats_are_refused(save_as: str, named: str) -> None:
    with pytest.raises(UnsupportedImage, match=named):
        load_image_bytes(encode(Image.new("RGB", (16, 16), RED), save_as))


def test_eps_is_refused_without_ghostscript(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("ghostscript must never run on uploads")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", forbidden)
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "load", forbidden)
    with pytest.raises(UnsupportedImage, match="PostScript"):
        load_image_bytes(encode(Image.new("RGB", (8, 8), RED), "EPS"))


@pytest.mark.parametrize("pillow_limit", [Image.MAX_IMAGE_PIXELS, None])
def test_huge_header_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch, pillow_limit: int | None
) -> None:
    def forbidden(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels must not be decoded")

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)
    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden)
    with pytest.raises(ImageTooLarge, match="over the 40 megapixel limit"):
        load_image_bytes(png_claiming(100_000, 100_000))


def test_avif_is_refused_by_name_whatever_brand_comes_first() -> None:
    """libavif decodes the AV1 frame at its bitstream's size, not the container's: its pixels
    cannot be bounded before decoding, so it is refused, named by any of its ISO brands."""
    with pytest.raises(UnsupportedImage, match=r"looks like AVIF\); supported formats: PNG"):
        load_image_bytes(encode(quadrants(), "AVIF"))
    heif_first = b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf" + bytes(64)
    with pytest.raises(UnsupportedImage, match=r"looks like AVIF\)"):
        load_image_bytes(heif_first)
    minor_avif = b"\x00\x00\x00\x18ftypisomavifisommp41" + bytes(64)  # a version, not a brand
    with pytest.raises(UnsupportedImage, match="looks like an MP4"):
        load_image_bytes(minor_avif)


def test_pillow_refusal_is_reported_against_our_limit() -> None:
    with pytest.raises(ImageTooLarge, match="image is 10,000 megapixels, over the 40 megapixel"):
        load_image_bytes(png_claiming(100_000, 100_000))


def test_pixel_limit_message_names_the_size() -> None:
    with pytest.raises(ImageTooLarge, match=r"8000x8000 = 64 megapixels, over the 40 megapixel"):
        load_image_bytes(png_claiming(8000, 8000))


def test_pixel_limit_is_configurable() -> None:
    data = encode(Image.new("RGB", (10, 10)), "PNG")
    assert load_image_bytes(data, ImageLimits(max_pixels=100)).width == 10
    with pytest.raises(ImageTooLarge, match="10x10"):
        load_image_bytes(data, ImageLimits(max_pixels=99))


def test_zero_sized_image() -> None:
    with pytest.raises(UnsupportedImage):
        load_image_bytes(png_claiming(0, 10))


def test_byte_cap() -> None:
    data = encode(quadrants(), "PNG")
    with pytest.raises(ImageTooLarge, match="limit"):
        load_image_bytes(data, ImageLimits(max_bytes=len(data) - 1))


def test_file_over_byte_cap_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    with path.open("wb") as file:
        file.truncate(100 * 1024 * 1024)  # sparse: costs no disk, reading it would cost 100 MiB
    with pytest.raises(ImageTooLarge, match=r"100.0 MiB, over the 25.0 MiB limit"):
        load_image_file(path)


def test_file_loading_with_limits_far_above_the_file_size(tmp_path: Path) -> None:
    path = tmp_path / "work.png"
    path.write_bytes(encode(quadrants(), "PNG"))
    assert load_image_file(path, ImageLimits(max_bytes=1 << 40)).width == 32


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedImage, match="no image file"):
        load_image_file(tmp_path / "missing.png")
    with pytest.raises(UnsupportedImage, match="not a regular file"):
        load_image_file(tmp_path)


SEEDS = [
    encode(quadrants(8, 6), "PNG"),
    encode(quadrants(8, 6), "JPEG"),
    encode(quadrants(8, 6), "WEBP"),
    encode(quadrants(8, 6), "GIF", save_all=True, append_images=[quadrants(8, 6)]),
    encode(quadrants(8, 6), "TIFF", save_all=True, append_images=[quadrants(4, 4)]),
    encode(quadrants(8, 6), "BMP"),
    encode(Image.new("I;16", (4, 4), 300), "PNG"),
    encode(Image.new("CMYK", (4, 4)), "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08"),
]


@st.composite
def damaged_images(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(1, len(data)))])


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on the damaged EXIF it skips
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512) | damaged_images())
def test_any_bytes_give_an_image_or_an_image_error(data: bytes) -> None:
    try:
        loaded = load_image_bytes(data, ImageLimits(max_pixels=1_000_000))
    except ImageError as exc:
        assert str(exc)
    else:
        assert loaded.image.mode == "RGB"
        assert loaded.image.size == (loaded.width, loaded.height)


def test_compressed_text_past_the_decoder_limit_is_named_as_such() -> None:
    """Found by QA: a PNG with a 1.3 MB compressed text chunk (a generator's workflow) was
    called damaged; its text, not its pixels, is what the decoder would not read."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("workflow", "x" * 1_300_000, zip=True)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buf, "PNG", pnginfo=info)
    with pytest.raises(UnsupportedImage, match="compressed text") as raised:
        load_image_bytes(buf.getvalue(), ImageLimits())
    assert "damaged" not in str(raised.value)
