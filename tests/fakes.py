"""Fakes at the seams: cheap deterministic embedders standing in for the real models, and a
calibration measured on generated images the same way the real one is."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from models.embedder import Embedder
from service.calibrate import fit_calibration
from service.calibration import Calibration


class PixelEmbedder(Embedder):
    """Content stand-in: the image shrunk to 8x8 RGB, centred."""

    name = "fake_pixels"

    @property
    def model_id(self) -> str:
        return "fake-pixels-8"

    @property
    def dim(self) -> int:
        return 192

    def _load(self) -> None:
        pass

    def _embed(self, images: Sequence[Image.Image]) -> NDArray[np.floating]:
        rows = [
            np.asarray(i.convert("RGB").resize((8, 8), Image.Resampling.BOX), np.float32)
            for i in images
        ]
        return np.stack(rows).reshape(len(images), -1) / 255.0 - 0.5


class HistogramEmbedder(Embedder):
    """Style stand-in: a 4x4x4 colour histogram (palette as 'style')."""

    name = "fake_histogram"

    @property
    def model_id(self) -> str:
        return "fake-histogram-64"

    @property
    def dim(self) -> int:
        return 64

    def _load(self) -> None:
        pass

    def _embed(self, images: Sequence[Image.Image]) -> NDArray[np.floating]:
        out = []
        for img in images:
            q = np.asarray(img.convert("RGB").resize((32, 32)), np.int64) // 64
            idx = q[..., 0] * 16 + q[..., 1] * 4 + q[..., 2]
            out.append(np.bincount(idx.ravel(), minlength=64).astype(np.float32))
        return np.sqrt(np.stack(out)) - 2.0


def drawing(seed: int, palette: Sequence[tuple[int, int, int]], size: int = 96) -> Image.Image:
    """A random composition of shapes in a creator's palette (its 'style')."""
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), palette[0])
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = rng.randrange(size - 20), rng.randrange(size - 20)
        box = (x0, y0, x0 + rng.randrange(10, 60), y0 + rng.randrange(10, 60))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape(box, fill=rng.choice(palette[1:]))
    return img


def framed(drawing: Image.Image) -> Image.Image:
    """A drawing inside a chequered frame: a series' template, shared by works that are not
    copies of each other."""
    page = Image.new("RGB", (320, 320), "white")
    draw = ImageDraw.Draw(page)
    for k in range(0, 320, 20):
        for x, y in ((k, 0), (k, 300), (0, k), (300, k)):
            draw.rectangle((x, y, x + 9, y + 19), fill=(30, 30, 120))
    page.paste(drawing.resize((240, 240)), (40, 40))
    return page


PALETTES: dict[str, list[tuple[int, int, int]]] = {
    "alice": [(250, 240, 220), (200, 40, 40), (240, 160, 30), (120, 20, 20)],
    "bob": [(20, 30, 60), (40, 120, 200), (120, 220, 250), (10, 60, 120)],
    "carol": [(235, 250, 235), (30, 140, 60), (140, 200, 60), (20, 70, 30)],
    "dave": [(255, 255, 255), (0, 0, 0), (128, 128, 128), (60, 60, 60)],
    "erin": [(250, 220, 240), (200, 60, 160), (120, 40, 200), (250, 120, 200)],
    "frank": [(240, 240, 160), (160, 120, 40), (90, 60, 20), (220, 190, 90)],
}


def fake_calibration(content: Embedder, style: Embedder) -> Calibration:
    """Calibration of the fakes on generated drawings (seeds disjoint from the tests')."""
    groups = {
        f"bg-{name}": [drawing(10_000 + i, pal) for i in range(50)]
        for name, pal in PALETTES.items()
    }
    return fit_calibration("fake", content, style, groups, source="tests/fakes.py")
