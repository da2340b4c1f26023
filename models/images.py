"""The one safe image loader: bytes or a file in, an 8-bit RGB Pillow image out.

Limits on bytes, header pixels, frames, pixels across frames and JPEG scans are checked before
anything is decoded; decode time is also bounded by a clock, checked each time a decoder asks for
more bytes (Pillow's decoders cannot be interrupted in between). Only PNG, JPEG, WebP, GIF, TIFF
and BMP are opened (first frame or page); EXIF orientation is applied and alpha is composited on
white. AVIF is refused: libavif decodes the AV1 frame at the size its bitstream gives, not the
size the container declares, so the pixel limit cannot be checked before it decodes.
Every failure becomes an `ImageError` whose message is meant for people.
What the pixels mean (embeddings, hashes) lives elsewhere.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import stat
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, TiffImagePlugin, UnidentifiedImageError

from models import provenance
from models.errors import ImageError, ImageTooLarge, MissingImage, UnsupportedImage
from models.stages import stage

# Restricting Image.open to these plugins is what keeps EPS (ghostscript), PSD, ICO and the
# rest of Pillow's readers away from untrusted bytes.
_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP")
_SUPPORTED = "supported formats: PNG, JPEG, WebP, GIF, TIFF, BMP"
# What Pillow's decoders raise on malformed input; our own ImageErrors are re-raised first.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)
_WIDE_GREY_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
# bytes handed to a decoder at a time: how often the decode clock is checked (Pillow: 64 KiB)
_DECODE_BLOCK = 4 * 1024
_clock = time.monotonic  # a seam: tests advance a fake clock
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "PA"})
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"%!PS", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"8BPS", "a Photoshop PSD"),
    (b"\x00\x00\x01\x00", "a Windows ICO icon"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"qoif", "QOI"),
    (b"\x7fELF", "an executable"),
)


@dataclass(frozen=True)
class ImageLimits:
    """What an input may cost before it is refused."""

    max_bytes: int = 25 * 1024 * 1024  # checked before decoding
    max_pixels: int = 40_000_000  # width*height from the header, checked before full decode
    max_frames: int = 1000  # animated GIF / multi-page TIFF cap (only the first frame is used)
    max_decode_pixels: int = 400_000_000  # width*height*frames declared: the decode budget
    # SOS markers in a JPEG: each progressive scan re-walks every block, so thousands of tiny
    # scans make a small file that decodes for minutes (a "scan bomb"); encoders write <= ~20
    max_jpeg_scans: int = 100
    max_decode_seconds: float = 10.0  # wall clock for opening and decoding; 0: no limit


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image and where it came from."""

    image: Image.Image  # RGB, 8-bit, EXIF orientation applied, alpha composited on white
    sha256: str  # hex sha256 of the original bytes
    width: int  # of the returned (oriented) image
    height: int
    format: str  # Pillow format name, e.g. "PNG" ("MPO" for multi-picture JPEGs)
    provenance: dict[str, Any] | None = None  # what the file says about itself (provenance.py)


def load_image_file(path: str | Path, limits: ImageLimits = ImageLimits()) -> LoadedImage:
    """Load an image file, refusing one over `limits.max_bytes` before reading it."""
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise UnsupportedImage(f"{path} is not a regular file")
        if info.st_size > limits.max_bytes:
            raise ImageTooLarge(_too_many_bytes(info.st_size, limits))
        with path.open("rb") as file:
            # read(n) allocates n bytes up front, so n must not come from a huge limit alone.
            data = file.read(min(info.st_size, limits.max_bytes) + 1)  # it may have grown
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise MissingImage(f"there is no image file at {path}") from exc
    return load_image_bytes(data, limits)


def load_image_bytes(data: bytes, limits: ImageLimits = ImageLimits()) -> LoadedImage:
    """Decode `data` into an RGB image after checking it against `limits`."""
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(_too_many_bytes(len(data), limits))
    if not data:
        raise UnsupportedImage("the file is empty")
    _check_jpeg_scans(data, limits)
    with (
        stage("decode"),
        _decode_errors(data, limits),
        Image.open(_TimedBytes(data, limits.max_decode_seconds), formats=_FORMATS) as opened,
    ):
        _check_size(opened, limits)
        _check_frames(opened, limits)
        opened.decodermaxblock = _DECODE_BLOCK
        opened.load()
        image = _to_rgb(ImageOps.exif_transpose(opened))
        image_format = str(opened.format)
        with stage("provenance"):
            facts = provenance.read(data, opened)
    digest = hashlib.sha256(data).hexdigest()
    return LoadedImage(image, digest, image.width, image.height, image_format, facts)


class _TimedBytes(io.BytesIO):
    """The file's bytes, refusing to hand out more once decoding has run past its budget."""

    def __init__(self, data: bytes, seconds: float) -> None:
        super().__init__(data)
        self._seconds = seconds
        self._deadline = _clock() + seconds if seconds > 0 else float("inf")

    def read(self, size: int | None = -1, /) -> bytes:
        if _clock() > self._deadline:
            raise ImageTooLarge(
                f"decoding the image took longer than the {self._seconds:g} s limit "
                "(STYLETRACE_MAX_DECODE_SECONDS)"
            )
        return super().read(size)


def _check_jpeg_scans(data: bytes, limits: ImageLimits) -> None:
    """Refuse a JPEG with more scans than the limit, counting SOS markers anywhere in the
    file (entropy-coded data cannot contain one, so this is an upper bound on its scans)."""
    if not data.startswith(b"\xff\xd8"):
        return
    scans = data.count(b"\xff\xda")
    if scans > limits.max_jpeg_scans:
        raise ImageTooLarge(
            f"JPEG has {scans} scans, over the limit of {limits.max_jpeg_scans} "
            "(STYLETRACE_MAX_JPEG_SCANS); encoders write at most a few dozen"
        )


@contextmanager
def _decode_errors(data: bytes, limits: ImageLimits) -> Iterator[None]:
    """Turn whatever Pillow raises on hostile or damaged input into an ImageError."""
    try:
        yield
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own cap (2 * Image.MAX_IMAGE_PIXELS) fired before our header check could.
        count = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{_megapixels(int(count[1]))} megapixels" if count else "too many pixels"
        raise ImageTooLarge(
            f"image is {size}, over the {_megapixels(limits.max_pixels)} megapixel limit "
            "(STYLETRACE_MAX_PIXELS) and over what Pillow will open"
        ) from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedImage(_describe_unreadable(data)) from exc
    except _DECODE_ERRORS as exc:
        if "MAX_TEXT_CHUNK" in str(exc) or "MAX_TEXT_MEMORY" in str(exc):
            raise UnsupportedImage(
                "the PNG carries compressed text (metadata, such as a generator's workflow) "
                "that unpacks to more than the decoder reads (1 MB a chunk, 64 MB in all), so "
                "its pixels were not read; save it without that text, or with it uncompressed"
            ) from exc
        kind = _sniff(data)
        what = f"a {kind} image" if kind in _FORMATS else "an image"
        msg = f"the file looks like {what} but cannot be decoded (damaged or truncated?): {exc}"
        raise UnsupportedImage(msg) from exc


def _check_size(image: Image.Image, limits: ImageLimits) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise UnsupportedImage(f"image header says it is {width}x{height}; it has no pixels")
    if width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"image is {width}x{height} = {_megapixels(width * height)} megapixels, over the "
            f"{_megapixels(limits.max_pixels)} megapixel limit (STYLETRACE_MAX_PIXELS)"
        )


def _check_frames(image: Image.Image, limits: ImageLimits) -> None:
    """Refuse more frames than `max_frames`, or than the decode budget allows at this size."""
    width, height = image.size
    allowed = min(limits.max_frames, max(1, limits.max_decode_pixels // (width * height)))
    if isinstance(image, TiffImagePlugin.TiffImageFile):
        # n_frames walks every page at quadratic cost; seeking to the cap stops there.
        too_many = _has_frame(image, allowed)
    else:
        # GIF counts frames without decoding them; the other formats read it from the header.
        too_many = int(getattr(image, "n_frames", 1)) > allowed
    if too_many and allowed == limits.max_frames:
        raise ImageTooLarge(
            f"image has more than {limits.max_frames} frames or pages (STYLETRACE_MAX_FRAMES)"
        )
    if too_many:
        raise ImageTooLarge(
            f"image has more than {allowed} frames or pages of {width}x{height}, over the "
            f"decode budget of {_megapixels(limits.max_decode_pixels)} megapixels across all "
            "frames (STYLETRACE_MAX_DECODE_PIXELS)"
        )


def _has_frame(image: Image.Image, index: int) -> bool:
    try:
        image.seek(index)
    except EOFError:
        return False
    finally:
        image.seek(0)
    return True


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in _WIDE_GREY_MODES:
        image = _to_8bit_grey(image)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _to_8bit_grey(image: Image.Image) -> Image.Image:
    """Scale 16/32-bit integer samples from 0..65535 and float samples from 0..1 (or 0..255)
    to 8 bits; Pillow's own convert() would clip everything above 255 to white."""
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0)
        scale = 255.0 if values.size and float(values.max()) <= 1.0 else 1.0
        grey = np.clip(np.rint(values * scale), 0, 255)
    else:
        samples = np.clip(np.asarray(image), 0, 65535).astype(np.uint32)
        grey = (samples * 255 + 32767) // 65535
    return Image.fromarray(grey.astype(np.uint8))


def _describe_unreadable(data: bytes) -> str:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<svg", b"<?xml", b"<!doctype svg", b"<!--")) and b"<svg" in head:
        return "SVG is a vector format and is not supported; rasterise it to PNG first"
    kind = _sniff(data)
    if kind in _FORMATS:
        return f"the file looks like a {kind} image but Pillow cannot read it (damaged?)"
    if kind is None and head.startswith((b"<!doctype html", b"<html")):
        kind = "HTML"
    elif kind is None and _is_text(data[:1024]):
        kind = "text"
    what = f"looks like {kind}" if kind else "unrecognised content"
    return f"the file is not an image Pillow can read ({what}); {_SUPPORTED}"


def _sniff(data: bytes) -> str | None:
    """Name the file type from its magic bytes, when that is cheap to tell."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":  # ISO media: the major brand, a minor version, compatible brands
        brands = data[8:12] + data[16 : max(16, min(int.from_bytes(data[:4], "big"), 64))]
        if any(brands[k : k + 4] in (b"avif", b"avis") for k in range(0, len(brands), 4)):
            return "AVIF"
        if brands[:4] in (b"heic", b"heix", b"mif1", b"msf1"):
            return "HEIC/HEIF"
        return "an MP4/QuickTime video"
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def _is_text(head: bytes) -> bool:
    try:  # an incremental decoder tolerates a character cut off at the end of `head`
        text = codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return False
    return all(char.isprintable() or char.isspace() for char in text)


def _too_many_bytes(size: int, limits: ImageLimits) -> str:
    return (
        f"image file is {_byte_size(size)}, over the {_byte_size(limits.max_bytes)} limit "
        "(STYLETRACE_MAX_UPLOAD_BYTES)"
    )


def _byte_size(size: int) -> str:
    return f"{size:,} bytes" if size < 1024 * 1024 else f"{size / (1024 * 1024):.1f} MiB"


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:,.1f}".removesuffix(".0")
