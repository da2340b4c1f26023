"""Views of a query image for content matching: the whole image, optionally with overlapping
crops, so that a work pasted into a larger canvas (a screenshot, a collage, a wide border)
still meets an image of itself. The calibration records which views its null was measured
with; matching uses the same."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

CROP_SIDE = 0.7  # each crop keeps 70% of width and height: about half the area


def whole(img: Image.Image) -> list[Image.Image]:
    """Just the image."""
    return [img]


def crops5(img: Image.Image) -> list[Image.Image]:
    """The image, its four corner crops and its centre crop."""
    w, h = img.size
    cw, ch = max(1, round(w * CROP_SIDE)), max(1, round(h * CROP_SIDE))
    corners = [(0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch), ((w - cw) // 2, (h - ch) // 2)]
    return [img, *(img.crop((x, y, x + cw, y + ch)) for x, y in corners)]


VIEWS: dict[str, Callable[[Image.Image], list[Image.Image]]] = {"global": whole, "crops5": crops5}
