"""Embedding the spreadTile watermark (models/spread_tile.py): the tiled pattern added to
all three channels alike (a luminance change), stronger where local texture hides it, at
the strength that puts the copy at a target PSNR after rounding and clipping (42 dB; down
to 38.5 dB for images that are busy texture all over). benchmarks/WATERMARK.md measures
what this costs: the payload starts to fail JPEG q50 on flat art at about 44 dB.

Embedding is informed: the image's own content projects onto each coded bit's pattern,
helping some bits and hurting others; the embedder reads its copy the way a reader would
and rebalances the bits' gains towards the same margin for every bit at the same total
energy, keeping whichever copy reads most clearly. A crop, resize or JPEG keeps most of the
content, so most of that balance too."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from models.spread_read import read_in_place
from models.spread_tile import frame_luma, luminance, tile, tiled

PSNR_SMOOTH = 42.0  # dB of the published copy against its original, for most images
PSNR_BUSY = 38.5  # dB where busy texture covers the image (the eye misses more there)
BUSY_MASK = (1.5, 2.0)  # mean texture mask from which the target falls, and where it ends
MASK_DETAIL = 8.0  # grey levels of local detail that double the strength (the most)
ROUNDS = 3  # informed rebalancing rounds
GAINS = (0.2, 3.0)  # a coded bit's gain stays within these multiples of the mean


def texture_mask(luma: NDArray[np.float32]) -> NDArray[np.float32]:
    """Relative strength per pixel: 1 in flat regions, up to 2 in busy texture (the eye
    misses changes there), from the local spread of fine detail."""
    detail = luma - cv2.GaussianBlur(luma, (0, 0), 1.0)
    spread = np.sqrt(cv2.GaussianBlur(detail * detail, (0, 0), 2.0))
    return np.asarray(np.minimum(1.0 + spread / MASK_DETAIL, 2.0), np.float32)


def target_psnr(mask: NDArray[np.float32]) -> float:
    """PSNR_SMOOTH, falling to PSNR_BUSY as the mean texture mask rises through BUSY_MASK."""
    busy = min(max((float(mask.mean()) - BUSY_MASK[0]) / (BUSY_MASK[1] - BUSY_MASK[0]), 0.0), 1.0)
    return PSNR_SMOOTH - busy * (PSNR_SMOOTH - PSNR_BUSY)


def add(rgb: NDArray[np.float32], delta: NDArray[np.float32], psnr: float) -> NDArray[np.float32]:
    """rgb plus delta (a luminance change) scaled to the PSNR, rounded and clipped; the
    scale is raised where clipping at black or white would lose part of the change."""
    change = delta[..., None]
    target = 255.0**2 / 10 ** (psnr / 10)
    gain = np.sqrt(target / max(float(np.mean(change * change)), 1e-12))
    for _ in range(4):
        out = np.clip(np.round(rgb + gain * change), 0, 255)
        mse = max(float(np.mean((out - rgb) ** 2)), 1e-12)
        gain *= min(np.sqrt(target / mse), 1.5)
    return np.asarray(np.clip(np.round(rgb + gain * change), 0, 255), np.float32)


def balanced_gains(host: NDArray[np.float64], unit: NDArray[np.float64]) -> NDArray[np.float64]:
    """Gains g giving every bit the same margin T = host + g * unit, at mean g**2 of 1."""
    a, b = 1.0 / unit, -host / unit
    qa, qb, qc = float(np.sum(a * a)), 2.0 * float(np.sum(a * b)), float(np.sum(b * b)) - len(a)
    margin = (-qb + np.sqrt(max(qb * qb - 4 * qa * qc, 0.0))) / (2 * qa)
    gains = np.clip(a * margin + b, *GAINS)
    return np.asarray(gains / np.sqrt(np.mean(gains * gains)))


def embed(rgb: NDArray[np.float32], coded: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Watermarked RGB pixels carrying the coded bits: of the equal gains and each round's
    rebalanced gains, the copy whose coded bits read back most clearly (mean margin over its
    spread; the reader is not linear, so a round can make things worse)."""
    height, width = rgb.shape[:2]
    mask = texture_mask(luminance(rgb))
    psnr = target_psnr(mask)
    signs = 2.0 * coded.astype(np.float64) - 1.0
    host = read_in_place(frame_luma(rgb), len(coded)) * signs
    gains = np.ones(len(coded))
    best, best_clarity = rgb, -np.inf
    for _ in range(ROUNDS + 1):
        marked = add(rgb, tiled(tile(coded, gains), width, height) * mask, psnr)
        seen = read_in_place(frame_luma(marked), len(coded)) * signs
        clarity = float(seen.mean() / max(float(seen.std()), 1e-12))
        if clarity > best_clarity:
            best, best_clarity = marked, clarity
        unit = (seen - host) / gains  # each bit's margin per unit of gain
        gains = balanced_gains(host, np.maximum(unit, 0.1 * np.median(unit)))
    return best.astype(np.uint8)
