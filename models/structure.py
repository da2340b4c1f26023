"""Colour-blind structure of an image: where its colour boundaries lie, and how far two images'
boundaries coincide beyond chance. The same drawing in other colours is a derivative, not an
independent work: the copy set keeps one picture of each family of recolours (neither a second
source nor a "non-copy" distractor), and the calibration leaves a creator's recolours out of
the content null's pairs within that creator. No embedding model is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image

SIDE = 64  # boundaries are found on a SIDE x SIDE box-filtered thumbnail
STEP = 24  # a boundary: some channel changes by more than this between neighbouring pixels
LINE_SHARE = 0.8  # a row or column this full of boundary is a line across the frame: layout
MIN_BOUNDARY = 150  # fewer boundary pixels (off such lines) than this: too plain to tell
MAX_COVER = 0.9  # grown boundaries over more of the frame than this: too busy to tell
MAX_LOG_ASPECT = 0.05  # aspect ratios further apart than 5% are different pictures
RECOLOUR_AGREEMENT = 0.9  # chance-corrected share of boundaries lying on the other's
RULES = (
    f"2:{SIDE}:{STEP}:{LINE_SHARE}:{MIN_BOUNDARY}:{MAX_COVER}:{MAX_LOG_ASPECT}:{RECOLOUR_AGREEMENT}"
)


def boundaries(img: Image.Image) -> NDArray[np.bool_]:
    """SIDE x SIDE map of pixels whose right or lower neighbour differs by more than STEP in
    some channel: a recolour moves no boundary, whatever colours it picks. Lines across the
    whole frame (the stripes of a flag, a banner's edge) are cleared: many different works
    share such a layout, so it says nothing about one being a recolour of the other."""
    rgb = np.asarray(img.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BOX), np.int16)
    out = np.zeros((SIDE, SIDE), bool)
    out[:, :-1] |= np.abs(np.diff(rgb, axis=1)).max(axis=2) > STEP
    out[:-1, :] |= np.abs(np.diff(rgb, axis=0)).max(axis=2) > STEP
    rows, cols = out.mean(axis=1) >= LINE_SHARE, out.mean(axis=0) >= LINE_SHARE
    out[rows, :] = False
    out[:, cols] = False
    return out


def near(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The mask grown by one pixel up, down, left and right: a one-pixel tolerance."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


class StructureIndex:
    """Boundary maps of kept images; names the kept image a new one recolours, if any.

    Agreement of a with b: the share of a's boundary pixels within a pixel of b's, corrected
    for chance (the share of the frame b's grown boundaries cover, which is what random
    boundaries would score), as Cohen's kappa is. Two images agree when both directions reach
    RECOLOUR_AGREEMENT, so busy pictures, whose boundaries cover most of the frame, do not agree
    by accident; pictures too plain or too busy to tell are never matched.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._size = 0
        self._maps = np.zeros((16, SIDE * SIDE), np.float32)
        self._grown = np.zeros((16, SIDE * SIDE), np.float32)
        self._aspects = np.zeros(16)

    def find(self, img: Image.Image) -> tuple[str, float]:
        """(id, agreement) of the kept image that `img` agrees with most when the agreement
        reaches RECOLOUR_AGREEMENT; otherwise ("", that best agreement, or 0)."""
        found = self.agreements(img)
        if found is None or not len(found):
            return "", 0.0
        best = int(found.argmax())
        return (self.ids[best] if found[best] >= RECOLOUR_AGREEMENT else ""), float(found[best])

    def add(self, item_id: str, img: Image.Image) -> None:
        """Remember a kept image (plain ones too: they are simply never matched)."""
        mask = boundaries(img)
        if self._size == len(self._maps):
            self._maps, self._grown = (
                np.resize(a, (2 * len(a), a.shape[1])) for a in (self._maps, self._grown)
            )
            self._aspects = np.resize(self._aspects, 2 * len(self._aspects))
        self._maps[self._size] = mask.ravel()
        self._grown[self._size] = near(mask).ravel()
        self._aspects[self._size] = np.log(img.width / img.height)
        self.ids.append(item_id)
        self._size += 1

    def agreements(self, img: Image.Image) -> NDArray[np.floating] | None:
        """Agreement with every kept image (0 where aspect or plainness rules it out; None
        when `img` itself is too plain or too busy to tell)."""
        mask = boundaries(img)
        grown_mask = near(mask)
        if mask.sum() < MIN_BOUNDARY or grown_mask.mean() > MAX_COVER:
            return None
        maps, grown = self._maps[: self._size], self._grown[: self._size]
        counts, cover = maps.sum(axis=1), grown.mean(axis=1)
        flat, flat_grown = mask.ravel().astype(np.float32), grown_mask.ravel().astype(np.float32)
        on_kept = (grown @ flat / flat.sum() - cover) / np.maximum(1 - cover, 1e-9)
        new_cover = flat_grown.mean()
        on_new = (maps @ flat_grown / np.maximum(counts, 1) - new_cover) / max(1 - new_cover, 1e-9)
        agree = np.minimum(on_kept, on_new)
        aspect_gap = np.abs(self._aspects[: self._size] - np.log(img.width / img.height))
        usable = (counts >= MIN_BOUNDARY) & (cover <= MAX_COVER) & (aspect_gap <= MAX_LOG_ASPECT)
        return np.where(usable, agree, 0.0)


def recolour_pairs(images: Sequence[Image.Image], groups: Sequence[str]) -> NDArray[np.bool_]:
    """[n, n]: the pairs of distinct images within one group that agree as recolours do."""
    labels = np.asarray(groups)
    out = np.zeros((len(labels), len(labels)), bool)
    for group in np.unique(labels):
        members = np.flatnonzero(labels == group).tolist()
        index = StructureIndex()
        for m in members:
            index.add(str(m), images[m])
        for m in members:
            found = index.agreements(images[m])
            if found is not None:
                out[m, members] = found >= RECOLOUR_AGREEMENT
    np.fill_diagonal(out, False)
    return out & out.T
