"""Views for content matching. A scheme names the views of a query (the whole image,
optionally with overlapping crops, so that a work pasted into a larger canvas, a screenshot
or a wide border still meets an image of itself) and the extra views indexed for each
registered work (its crops, so that a query cropped out of a work meets that part of it).
Query views are compared with works' whole images, and the query's whole image with works'
extra views; crops never meet crops. A scheme may also pair one view of both sides, met only
by the same view of each work: the image trimmed of its smooth margins (what a bordered,
padded or letterboxed copy still shares with its source; the default), or the grey, low-pass
image (what a blurred, greyed or colour-jittered copy still shares). The calibration
records the scheme its null was measured with; matching uses the same."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

CROP_SIDE = 0.7  # each crop keeps 70% of width and height: about half the area
SIDE = 224  # the default content embedder's input size: the low-pass view is blurred at it
LOW_PASS = 3.0  # Gaussian radius of the low-pass view, pixels at SIDE
TRIM_SIDE = 256  # margins are found on the image at this long side
TRIM_STEP = 8  # a smooth line: no two neighbouring pixels differ by more than this (0-255)
TRIM_KEEP = 0.1  # a trim leaving less than this share of a side keeps the whole image

Views = Callable[[Image.Image], list[Image.Image]]
View = Callable[[Image.Image], Image.Image]


def whole(img: Image.Image) -> list[Image.Image]:
    """Just the image."""
    return [img]


def nothing(img: Image.Image) -> list[Image.Image]:
    """No extra views."""
    return []


def five_crops(img: Image.Image) -> list[Image.Image]:
    """The four corner crops and the centre crop."""
    w, h = img.size
    cw, ch = max(1, round(w * CROP_SIDE)), max(1, round(h * CROP_SIDE))
    corners = [(0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch), ((w - cw) // 2, (h - ch) // 2)]
    return [img.crop((x, y, x + cw, y + ch)) for x, y in corners]


def crops5(img: Image.Image) -> list[Image.Image]:
    """The image, its four corner crops and its centre crop."""
    return [img, *five_crops(img)]


def grey(img: Image.Image) -> Image.Image:
    """The image without colour."""
    return img.convert("L").convert("RGB")


def low_pass(img: Image.Image) -> Image.Image:
    """The image at the embedder's input size without its fine detail."""
    small = img.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    return small.filter(ImageFilter.GaussianBlur(LOW_PASS))


def grey_low_pass(img: Image.Image) -> Image.Image:
    """Neither colour nor fine detail."""
    return low_pass(grey(img))


def _smooth_lines(pixels: NDArray[np.int16]) -> NDArray[np.bool_]:
    """Per row of [h, w, 3] pixels (w >= 3): whether it is smooth (TRIM_STEP), its end
    pixels aside (resizing blends them with a stripped margin across the row)."""
    steps = np.abs(np.diff(pixels, axis=1)).max(axis=2)[:, 1:-1]
    smooth: NDArray[np.bool_] = steps.max(axis=1, initial=0) <= TRIM_STEP
    return smooth


def _inner(smooth: NDArray[np.bool_]) -> tuple[int, int]:
    """[first, end) of the lines left after the smooth ones at either end ((0, 0): all smooth)."""
    if smooth.all():
        return 0, 0
    return int(np.argmin(smooth)), len(smooth) - int(np.argmin(smooth[::-1]))


def trimmed(img: Image.Image) -> Image.Image:
    """The image without its smooth margins: the rows and columns, from each edge inwards,
    along which no two neighbouring pixels differ by more than TRIM_STEP (a solid border or
    padding, the blank page around a drawing, a blurred fill), stripped again from what is
    left until nothing more goes, so that a border around a drawing on a blank page goes
    with the page. The image itself (the same object: embedded once where it is also the
    whole-image view) where there is nothing to strip or stripping leaves less than TRIM_KEEP
    of a side."""
    rgb = img.convert("RGB")
    scale = min(1.0, TRIM_SIDE / max(rgb.size))
    size = max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))
    if min(size) < 3:
        return img
    pixels = np.asarray(rgb.resize(size, Image.Resampling.BILINEAR), np.int16)
    top, bottom, left, right = 0, size[1], 0, size[0]
    while True:
        inner = pixels[top:bottom, left:right]
        rows, cols = _inner(_smooth_lines(inner)), _inner(_smooth_lines(inner.transpose(1, 0, 2)))
        if rows == (0, len(inner)) and cols == (0, inner.shape[1]):
            break
        top, bottom = top + rows[0], top + rows[1]
        left, right = left + cols[0], left + cols[1]
        if bottom - top < TRIM_KEEP * size[1] or right - left < TRIM_KEEP * size[0]:
            return img
    if (top, bottom, left, right) == (0, size[1], 0, size[0]):
        return img
    sx, sy = rgb.width / size[0], rgb.height / size[1]
    return rgb.crop((round(left * sx), round(top * sy), round(right * sx), round(bottom * sy)))


Embed = Callable[[Sequence[Image.Image]], NDArray[np.float32]]


def embed_once(embed: Embed, images: Sequence[Image.Image]) -> NDArray[np.float32]:
    """One row per image of `images`, by one call of `embed` over the distinct ones: an image
    listed more than once (the same object, such as a paired view that leaves the image as it
    is) is embedded once."""
    row: dict[int, int] = {}  # id of each distinct image -> its row
    distinct: list[Image.Image] = []
    for img in images:
        if id(img) not in row:
            row[id(img)] = len(distinct)
            distinct.append(img)
    return embed(distinct)[np.asarray([row[id(img)] for img in images], np.int64)]


def embed_each(embed: Embed, views: list[list[Image.Image]], dim: int) -> NDArray[np.float32]:
    """[n, v, dim]: each image's views (the same count for every image), embedded by one
    call of `embed` over all of them (embed_once)."""
    flat = embed_once(embed, [v for vs in views for v in vs])
    return flat.reshape(len(views), len(views[0]) if views else 0, dim)


@dataclass(frozen=True)
class ViewScheme:
    """Views of a query (the first is the whole image), extra views of a registered work, and
    optionally a view of both sides met only by its counterpart."""

    query: Views
    work: Views
    work_is_query_crops: bool = False  # work views == query views[1:]: embed them once
    work_id: str = ""  # names the work views: their stored vectors follow it
    paired: View | None = None
    paired_id: str = ""  # names the paired view's transform: its stored vectors follow it

    def __post_init__(self) -> None:
        """Stored vectors are keyed by these names: a view without one would share another's."""
        if self.work is not nothing and not self.work_id:
            raise ValueError("a scheme indexing work views names them (work_id)")
        if self.paired is not None and not self.paired_id:
            raise ValueError("a scheme with a paired view names it (paired_id)")

    @property
    def indexes_work_views(self) -> bool:
        """Whether registered works are indexed with extra views."""
        return self.work is not nothing

    def embedded(self, img: Image.Image) -> list[Image.Image]:
        """Every image of a query the content model embeds: its views, then its paired view."""
        return [*self.query(img), *([self.paired(img)] if self.paired else [])]


VIEWS: dict[str, ViewScheme] = {
    "global": ViewScheme(whole, nothing),
    "crops5": ViewScheme(crops5, nothing),
    "crops5-both": ViewScheme(crops5, five_crops, work_is_query_crops=True, work_id="crops5-both"),
    "crops5-both-greylow": ViewScheme(
        crops5,
        five_crops,
        work_is_query_crops=True,
        work_id="crops5-both",  # the same crops: works indexed for crops5-both keep theirs
        paired=grey_low_pass,
        paired_id=f"grey-lowpass{LOW_PASS:g}@{SIDE}",
    ),
    "crops5-both-trim": ViewScheme(
        crops5,
        five_crops,
        work_is_query_crops=True,
        work_id="crops5-both",
        paired=trimmed,
        paired_id=f"trim-step{TRIM_STEP:g}-keep{TRIM_KEEP:g}@{TRIM_SIDE}",
    ),
}
