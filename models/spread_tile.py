"""The spreadTile watermark's pattern: a 128x128 tile of pseudo-random low and mid frequencies
(wavelengths of 8-64 tile pixels), repeated over the image's luminance. Each coded payload
bit owns a few frequencies of the tile and a sync pattern owns others, so the patterns are
exactly orthogonal and one reader can tell them apart after any shift of the tile.

The tile is sized against a detection frame, the image scaled to a 512-pixel long side
(never up), so a large image and its downscaled copy carry the same tile. Embedding is in
models/spread_embed.py, reading in models/spread_read.py."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

TILE = 128  # tile side in the detection frame
FRAME = 512  # long side of the detection frame: larger images are read downscaled to it
BAND = (2.0, 16.0)  # frequencies the tile uses, in cycles per tile
SYNC_SHARE = 0.25  # share of the band's frequencies (and energy) given to the sync pattern
SEED = 0x5717E  # the patterns are public: the payload's checksum carries the secret
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601, as JPEG's Y


@dataclass(frozen=True)
class Layout:
    """Where each pattern lives in the tile's half spectrum (numpy's rfft2 layout)."""

    rows: NDArray[np.int64]  # [n] row of each frequency
    cols: NDArray[np.int64]  # [n] column of each frequency
    u: NDArray[np.float64]  # [n] signed vertical frequency, cycles per tile
    radius: NDArray[np.float64]  # [n] cycles per tile
    phase: NDArray[np.complex128]  # [n] pseudo-random unit phase of each frequency
    slot: NDArray[np.int64]  # [n] -1: sync, k: coded bit k

    @property
    def sync(self) -> NDArray[np.bool_]:
        return np.asarray(self.slot < 0)


@lru_cache(maxsize=4)
def layout(n_coded: int) -> Layout:
    """The band's frequencies dealt out at random (a fixed seed) to the sync pattern and
    n_coded coded bits; columns 0 and TILE/2 are left out so every frequency is one complex
    degree of freedom."""
    freq = np.fft.fftfreq(TILE, 1 / TILE)
    rows, cols = np.meshgrid(np.arange(TILE), np.arange(1, TILE // 2), indexing="ij")
    radius = np.hypot(freq[rows], cols)
    inside = (radius >= BAND[0]) & (radius <= BAND[1])
    rows, cols, radius = rows[inside], cols[inside], radius[inside]
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(rows))
    n_sync = round(len(rows) * SYNC_SHARE)
    slot = np.empty(len(rows), np.int64)
    slot[order[:n_sync]] = -1
    slot[order[n_sync:]] = np.arange(len(rows) - n_sync) % n_coded
    phase = np.exp(2j * np.pi * rng.random(len(rows)))
    return Layout(rows, cols, freq[rows], radius, phase, slot)


def tile(coded: NDArray[np.uint8], gains: NDArray[np.float64]) -> NDArray[np.float32]:
    """The TILE x TILE pattern: the sync plus each coded bit's sign times its gain."""
    lay = layout(len(coded))
    bit = np.maximum(lay.slot, 0)
    signs = np.where(lay.sync, 1.0, (2.0 * coded[bit] - 1.0) * gains[bit])
    spectrum = np.zeros((TILE, TILE // 2 + 1), np.complex128)
    spectrum[lay.rows, lay.cols] = signs * lay.phase
    return np.asarray(np.fft.irfft2(spectrum, (TILE, TILE)) * TILE, np.float32)


def detection_scale(width: int, height: int) -> float:
    """Detection-frame pixels per image pixel: at most 1, FRAME on the long side."""
    return min(1.0, FRAME / max(width, height))


def tiled(pattern: NDArray[np.float32], width: int, height: int) -> NDArray[np.float32]:
    """The tile repeated over an image of this size, one tile per TILE detection pixels."""
    scale = detection_scale(width, height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    small = np.tile(pattern, (-(-h // TILE), -(-w // TILE)))[:h, :w]
    if (w, h) == (width, height):
        return np.ascontiguousarray(small)
    return np.asarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC))


def luminance(rgb: NDArray[np.float32]) -> NDArray[np.float32]:
    """Luma of float RGB pixels [h, w, 3]: a change added to all three channels moves it
    by the same amount."""
    return np.asarray(rgb @ LUMA, np.float32)


def frame_luma(rgb: NDArray[np.float32]) -> NDArray[np.float32]:
    """Luma of RGB pixels in the detection frame (area-averaged when scaled down)."""
    luma = luminance(rgb)
    scale = detection_scale(luma.shape[1], luma.shape[0])
    if scale == 1.0:
        return luma
    size = (max(1, round(luma.shape[1] * scale)), max(1, round(luma.shape[0] * scale)))
    return np.asarray(cv2.resize(luma, size, interpolation=cv2.INTER_AREA))
