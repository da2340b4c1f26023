"""Image edits that turn a registered work into a plausible copy, for copy-detection benchmarks.

Each edit is a pure Pillow function `(img, rng) -> img` returning a new RGB image; all
randomness comes from `rng`, so a seeded `random.Random` reproduces the same copy. `EDITS`
lists them in a fixed order. Style imitations (new works in a creator's manner) are not
made here: they come from real unseen works in `benchmarks.openclipart`.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

Edit = Callable[[Image.Image, random.Random], Image.Image]

WHITE = (255, 255, 255)
_CAPTIONS = ("ME WHEN", "NOT MY ART", "SO TRUE", "WAIT FOR IT", "MONDAY MOOD", "NEW DROP")


def jpeg(img: Image.Image, rng: random.Random) -> Image.Image:
    """Re-encode as a low-quality JPEG (quality 20-30)."""
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, format="JPEG", quality=rng.randint(20, 30))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def crop50(img: Image.Image, rng: random.Random) -> Image.Image:
    """Crop a random window holding about half of the area (45-55%)."""
    side = math.sqrt(rng.uniform(0.45, 0.55))
    width, height = max(1, round(img.width * side)), max(1, round(img.height * side))
    left, top = rng.randint(0, img.width - width), rng.randint(0, img.height - height)
    return img.convert("RGB").crop((left, top, left + width, top + height))


def rescale(img: Image.Image, rng: random.Random) -> Image.Image:
    """Downscale to 25-50% and back up, losing fine detail."""
    factor = rng.uniform(0.25, 0.5)
    small = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    down = img.convert("RGB").resize(small, Image.Resampling.BILINEAR)
    return down.resize(img.size, Image.Resampling.BICUBIC)


def rotate(img: Image.Image, rng: random.Random) -> Image.Image:
    """Rotate by 5-20 degrees either way, expanding the canvas with white."""
    angle = rng.uniform(5.0, 20.0) * rng.choice((-1, 1))
    rgb = img.convert("RGB")
    return rgb.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=WHITE)


def flip(img: Image.Image, rng: random.Random) -> Image.Image:
    """Mirror left to right (rng unused: the edit has no parameters)."""
    return ImageOps.mirror(img.convert("RGB"))


def colour_jitter(img: Image.Image, rng: random.Random) -> Image.Image:
    """Shift hue and scale brightness, contrast and saturation."""
    hue, sat, val = img.convert("RGB").convert("HSV").split()
    shift = rng.choice((-1, 1)) * rng.randint(20, 60)
    hue = hue.point(lambda h: (h + shift) % 256)
    out = Image.merge("HSV", (hue, sat, val)).convert("RGB")
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        out = enhancer(out).enhance(rng.uniform(0.7, 1.3))
    return out


def grayscale(img: Image.Image, rng: random.Random) -> Image.Image:
    """Drop colour (rng unused)."""
    return img.convert("L").convert("RGB")


def blur(img: Image.Image, rng: random.Random) -> Image.Image:
    """Gaussian blur, radius 1-2.5 px per 256 px of the long side."""
    radius = rng.uniform(1.0, 2.5) * max(img.size) / 256
    return img.convert("RGB").filter(ImageFilter.GaussianBlur(radius))


def text_overlay(img: Image.Image, rng: random.Random) -> Image.Image:
    """Meme-style caption: white text with a black outline at the top or bottom."""
    out = img.convert("RGB")
    caption = rng.choice(_CAPTIONS)
    size = max(8, min(out.height // 5, max(out.size) // 9))
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(out)
    while size > 8 and draw.textlength(caption, font=font) > 0.95 * out.width:
        size -= 2
        font = ImageFont.load_default(size=size)
    y = size // 2 if rng.random() < 0.5 else out.height - size // 2
    stroke = max(1, size // 12)
    draw.text((out.width // 2, y), caption, WHITE, font, "mm", stroke_width=stroke, stroke_fill=0)
    return out


def border(img: Image.Image, rng: random.Random) -> Image.Image:
    """Pad every side by 5-20% of the long side with one random solid colour."""
    pad = max(1, round(max(img.size) * rng.uniform(0.05, 0.2)))
    colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
    return ImageOps.expand(img.convert("RGB"), border=pad, fill=colour)


def _draw_chrome(canvas: Image.Image, bars: tuple[int, int], sidebar: tuple[int, int]) -> None:
    """Grey title bar with window buttons and address field, a sidebar, a status bar."""
    (top, bottom), (left, side) = bars, sidebar
    draw = ImageDraw.Draw(canvas)
    width, height = canvas.size
    draw.rectangle((0, 0, width, top), fill=(60, 63, 65))
    for k in range(3):
        x, y, r = top // 2 + k * top, top // 2, top // 5
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(200, 90, 80) if k == 0 else (150,) * 3)
    if width - top > 4 * top:  # an address field only where the bar has room for one
        draw.rectangle((4 * top, top // 4, width - top, 3 * top // 4), fill=(225, 225, 225))
    draw.rectangle((left, top, left + side, height), fill=(205, 205, 208))
    for k, row in enumerate(range(top + top // 2, height - bottom - top // 2, max(4, top // 2))):
        line_end = left + round(side * (0.45 + 0.1 * (k * 7 % 5)))
        draw.rectangle((left + side // 10, row, line_end, row + max(1, top // 8)), fill=(150,) * 3)
    draw.rectangle((0, height - bottom, width, height), fill=(180, 180, 183))


def screenshot(img: Image.Image, rng: random.Random) -> Image.Image:
    """Paste into a screenshot-like canvas where the work covers 40-60% of the area."""
    rgb = img.convert("RGB")
    share = rng.uniform(0.4, 0.6)
    long_side = max(rgb.size)
    margin = max(2, round(0.03 * long_side))
    top, bottom = round(long_side * rng.uniform(0.06, 0.1)), round(long_side * 0.04)
    height = rgb.height + top + bottom + 2 * margin
    side = max(0, round(rgb.width * rgb.height / share / height) - rgb.width - 2 * margin)
    canvas = Image.new("RGB", (rgb.width + 2 * margin + side, height), (240, 240, 240))
    sidebar_left = rng.random() < 0.5
    _draw_chrome(canvas, (top, bottom), (0 if sidebar_left else canvas.width - side, side))
    canvas.paste(rgb, ((side if sidebar_left else 0) + margin, top + margin))
    return canvas


def combo(img: Image.Image, rng: random.Random) -> Image.Image:
    """Two different random edits from the others, applied in turn."""
    first, second = rng.sample([name for name in EDITS if name != "combo"], 2)
    return EDITS[second](EDITS[first](img, rng), rng)


EDITS: dict[str, Edit] = {
    "jpeg": jpeg,
    "crop50": crop50,
    "rescale": rescale,
    "rotate": rotate,
    "flip": flip,
    "colour_jitter": colour_jitter,
    "grayscale": grayscale,
    "blur": blur,
    "text_overlay": text_overlay,
    "border": border,
    "screenshot": screenshot,
    "combo": combo,
}
