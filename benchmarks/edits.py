"""Image edits that turn a registered work into a plausible copy, for copy-detection benchmarks.

Each edit is a pure Pillow function `(img, rng) -> img` returning a new RGB image; all
randomness comes from `rng`, so a seeded `random.Random` reproduces the same copy. `EDITS`
lists them in a fixed order. `HELD_OUT` lists edits no dev set, training or calibration
uses, for `benchmarks.unseen_edits`. Style imitations (new works in a creator's manner) are
not made here: they come from real unseen works in `benchmarks.openclipart`.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

Edit = Callable[[Image.Image, random.Random], Image.Image]

WHITE = (255, 255, 255)
_CAPTIONS = ("ME WHEN", "NOT MY ART", "SO TRUE", "WAIT FOR IT", "MONDAY MOOD", "NEW DROP")


def _reencoded(img: Image.Image, kind: str, quality: int) -> Image.Image:
    """The image saved as `kind` at `quality` and decoded again."""
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, format=kind, quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def jpeg(img: Image.Image, rng: random.Random) -> Image.Image:
    """Re-encode as a low-quality JPEG (quality 20-30)."""
    return _reencoded(img, "JPEG", rng.randint(20, 30))


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


# Held-out edits: what reposts do that the copy set never does. Nothing is fitted on them.


def stretch(img: Image.Image, rng: random.Random) -> Image.Image:
    """Squash one axis to 60-80% (an aspect ratio forced by a feed or a thumbnail)."""
    factor, (width, height) = rng.uniform(0.6, 0.8), img.size
    if rng.random() < 0.5:
        size = (max(1, round(width * factor)), height)
    else:
        size = (width, max(1, round(height * factor)))
    return img.convert("RGB").resize(size, Image.Resampling.BICUBIC)


def seen_at(rgb: Image.Image, quad: list[tuple[float, float]]) -> Image.Image:
    """The picture as a camera off its axis sees it: each output corner samples the source at
    the matching corner of `quad` (top left, top right, bottom right, bottom left); what falls
    outside the picture is white."""
    width, height = rgb.size
    corners = [(0, 0), (width, 0), (width, height), (0, height)]
    rows, values = [], []
    for (x, y), (u, v) in zip(corners, quad, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    data = [float(c) for c in np.linalg.solve(np.asarray(rows, float), np.asarray(values))]
    return rgb.transform(
        rgb.size, Image.Transform.PERSPECTIVE, data, Image.Resampling.BICUBIC, fillcolor=WHITE
    )


def perspective(img: Image.Image, rng: random.Random) -> Image.Image:
    """Keystone, as in a photo of a screen taken at an angle: one side of the picture shrunk
    by 10-25% towards its middle, the uncovered corners white."""
    rgb = img.convert("RGB")
    width, height = rgb.size
    inset = rng.uniform(0.1, 0.25) / 2
    # where each output corner samples the source: outside it on the shrunk side, so the
    # picture narrows there (Pillow fills what falls outside with `fillcolor`)
    grow_x, grow_y = width * inset / (1 - 2 * inset), height * inset / (1 - 2 * inset)
    quad = [(0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height))]
    side = rng.randrange(4)  # 0 top, 1 right, 2 bottom, 3 left
    a, b = side, (side + 1) % 4
    if side in (0, 2):
        quad[a] = (quad[a][0] + (-grow_x if side == 0 else grow_x), quad[a][1])
        quad[b] = (quad[b][0] + (grow_x if side == 0 else -grow_x), quad[b][1])
    else:
        quad[a] = (quad[a][0], quad[a][1] + (-grow_y if side == 1 else grow_y))
        quad[b] = (quad[b][0], quad[b][1] + (grow_y if side == 1 else -grow_y))
    return seen_at(rgb, quad)


def noise(img: Image.Image, rng: random.Random) -> Image.Image:
    """Gaussian noise of 8-20 grey levels per channel (a grainy re-shot or a cheap camera)."""
    pixels = np.asarray(img.convert("RGB"), np.float32)
    grain = np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(8, 20), pixels.shape)
    return Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8))


def posterize(img: Image.Image, rng: random.Random) -> Image.Image:
    """8-16 colours with Floyd-Steinberg dithering (a re-save as GIF). Pillow dithers only
    against a given palette, so the palette is chosen first."""
    rgb = img.convert("RGB")
    palette = rgb.quantize(rng.randint(8, 16))
    return rgb.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).convert("RGB")


def webp(img: Image.Image, rng: random.Random) -> Image.Image:
    """Re-encode as a low-quality WebP (quality 5-20)."""
    return _reencoded(img, "WEBP", rng.randint(5, 20))


def tilt(img: Image.Image, rng: random.Random) -> Image.Image:
    """Rotate by 2-5 degrees either way and crop back to the centred window that holds no
    corner (a straightened or re-shot copy: no fill wedges give it away)."""
    angle = math.radians(rng.uniform(2.0, 5.0))
    rgb = img.convert("RGB")
    degrees = math.degrees(angle) * rng.choice((-1, 1))
    turned = rgb.rotate(degrees, Image.Resampling.BICUBIC, fillcolor=WHITE)
    width, height = rgb.size
    # the largest centred window of the same aspect inside the turned picture, less a pixel
    # each way so that no resampled edge of a wedge is left
    scale = 1 / (math.cos(angle) + math.sin(angle) * max(width / height, height / width))
    w, h = max(1, math.floor(width * scale) - 2), max(1, math.floor(height * scale) - 2)
    left, top = (width - w) // 2, (height - h) // 2
    return turned.crop((left, top, left + w, top + h))


def mirror_crop(img: Image.Image, rng: random.Random) -> Image.Image:
    """Mirror, then keep a random window of 65-80% of the area."""
    side = math.sqrt(rng.uniform(0.65, 0.8))
    rgb = ImageOps.mirror(img.convert("RGB"))
    width, height = max(1, round(rgb.width * side)), max(1, round(rgb.height * side))
    left, top = rng.randint(0, rgb.width - width), rng.randint(0, rgb.height - height)
    return rgb.crop((left, top, left + width, top + height))


def stickers(img: Image.Image, rng: random.Random) -> Image.Image:
    """3-6 opaque discs and squares in random colours, their boxes 10-20% of the picture
    (stickers, emoji, a scribbled-over signature; discs and overlaps cover less)."""
    out = img.convert("RGB")
    draw = ImageDraw.Draw(out)
    count = rng.randint(3, 6)
    side = max(2, round(math.sqrt(out.width * out.height * rng.uniform(0.1, 0.2) / count)))
    for _ in range(count):
        x, y = rng.randint(0, max(0, out.width - side)), rng.randint(0, max(0, out.height - side))
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + side, y + side), fill=colour)
    return out


def blur_fill(img: Image.Image, rng: random.Random) -> Image.Image:
    """Centre on a square canvas filled with an enlarged, heavily blurred copy of itself
    (how feeds fit a wide or tall picture into a square), the picture at 70-90% of the
    square's side."""
    rgb = img.convert("RGB")
    side = max(rgb.size)
    back = rgb.resize((side, side), Image.Resampling.BILINEAR)
    back = back.filter(ImageFilter.GaussianBlur(side / 20))
    fit = rng.uniform(0.7, 0.9)  # of the square's side, which is the long side
    front = rgb.resize(
        (max(1, round(rgb.width * fit)), max(1, round(rgb.height * fit))),
        Image.Resampling.BICUBIC,
    )
    back.paste(front, ((side - front.width) // 2, (side - front.height) // 2))
    return back


def upscale_sharpen(img: Image.Image, rng: random.Random) -> Image.Image:
    """Upscale 1.5-2.5x with an unsharp mask (an 'enhanced' repost)."""
    factor = rng.uniform(1.5, 2.5)
    rgb = img.convert("RGB")
    size = (round(rgb.width * factor), round(rgb.height * factor))
    big = rgb.resize(size, Image.Resampling.BICUBIC)
    return big.filter(ImageFilter.UnsharpMask(radius=2, percent=rng.randint(120, 200)))


HELD_OUT: dict[str, Edit] = {
    "stretch": stretch,
    "perspective": perspective,
    "noise": noise,
    "posterize": posterize,
    "webp": webp,
    "tilt": tilt,
    "mirror_crop": mirror_crop,
    "stickers": stickers,
    "blur_fill": blur_fill,
    "upscale_sharpen": upscale_sharpen,
}
