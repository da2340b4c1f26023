"""Blind reading of the spreadTile watermark (models/spread_tile.py), in the detection frame:
whiten the luminance, find the tile's period from the lines a repeated tile puts in the
power spectrum (any resize), resample the query to that period and fold it into one tile
(a crop, border or paste-in only shifts the tile), find the shift where the sync pattern
correlates best, and read each coded bit as the projection onto its frequencies there.
Decoding the coded bits is the caller's business (models/convcode.py)."""

from __future__ import annotations

import cv2
import numpy as np
import scipy.fft  # type: ignore[import-untyped]
from numpy.typing import NDArray

from models.spread_tile import TILE, Layout, layout

FOLD = 64  # tile side the reader folds into: the band's highest frequency is under FOLD/2
MEDIAN = 31  # window of the median the reader subtracts, in detection-frame pixels
LOCAL = 3.0  # radius of the local power estimate, in detection-frame pixels
FLOOR = 4.0  # grey levels of noise assumed even where the image is flat
PERIODS = (40.0, 270.0)  # tile periods searched, in detection-frame pixels (scale 0.3-2.1)
PERIOD_STEP = 0.002  # relative step of the period search
PERIOD_CANDIDATES = 12  # spectral comb peaks tried
REFINE = (0.0,)  # relative period offsets tried around each peak
LINE_CONTEXT = 9  # spectrum bins a line is compared with, each way


def whiten(luma: NDArray[np.float32]) -> NDArray[np.float32]:
    """Luminance minus its local median (which follows edges and flat fills without
    smearing one into the other), weighted by the inverse of its local power: flat regions,
    which carry the mark cleanly, count fully; edges and busy texture count less."""
    grey = np.clip(np.round(luma), 0, 255).astype(np.uint8)
    residual = luma - cv2.medianBlur(grey, MEDIAN).astype(np.float32)
    power = cv2.GaussianBlur(residual * residual, (0, 0), LOCAL)
    return np.asarray(residual / (power + FLOOR * FLOOR), np.float32)


def line_power(z: NDArray[np.float32]) -> NDArray[np.float32]:
    """Power spectrum of the whitened query (zero-padded twice over, so a line between bins
    is not lost), divided by its local mean: about 1 for content, more on periodic lines."""
    h, w = 2 * z.shape[0], 2 * z.shape[1]
    power = np.fft.fftshift(np.abs(scipy.fft.rfft2(z, s=(h, w))) ** 2, axes=0)
    local = cv2.blur(power.astype(np.float32), (LINE_CONTEXT, LINE_CONTEXT))
    return np.asarray(np.fft.ifftshift(power / np.maximum(local, 1e-12), axes=0), np.float32)


def comb(
    power: NDArray[np.float32], lay: Layout, periods: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per candidate period: the summed line power where a tile of that period puts the
    band's frequencies."""
    h, half = power.shape
    rows = np.round(lay.u[None, :] / periods[:, None] * h).astype(np.int64) % h
    cols = np.round(lay.cols[None, :] / periods[:, None] * 2 * (half - 1)).astype(np.int64)
    return np.asarray(power[rows, np.minimum(cols, half - 1)].sum(axis=1))


def periods(z: NDArray[np.float32], lay: Layout) -> list[float]:
    """Candidate tile periods, best first: the strongest peaks of the spectral comb."""
    top = min(PERIODS[1], 0.9 * max(z.shape))
    if top <= PERIODS[0] * (1 + 2 * PERIOD_STEP):
        return []
    grid = PERIODS[0] * np.exp(np.arange(0.0, np.log(top / PERIODS[0]), PERIOD_STEP))
    score = comb(line_power(z), lay, grid)
    inner = np.arange(1, len(grid) - 1)
    peaks = inner[(score[inner] >= score[inner - 1]) & (score[inner] > score[inner + 1])]
    return [float(grid[i]) for i in peaks[np.argsort(-score[peaks])][:PERIOD_CANDIDATES]]


def fold(z: NDArray[np.float32], period: float) -> NDArray[np.float32]:
    """The query resampled to a FOLD-pixel period and summed into one FOLD x FOLD tile."""
    factor = FOLD / period
    h, w = max(1, round(z.shape[0] * factor)), max(1, round(z.shape[1] * factor))
    resample = cv2.INTER_LINEAR if factor > 1 else cv2.INTER_AREA
    padded = np.zeros((-(-h // FOLD) * FOLD, -(-w // FOLD) * FOLD), np.float32)
    padded[:h, :w] = cv2.resize(z, (w, h), interpolation=resample)
    return np.asarray(padded.reshape(-1, FOLD, padded.shape[1] // FOLD, FOLD).sum(axis=(0, 2)))


def band_values(folded: NDArray[np.float32], lay: Layout) -> NDArray[np.complex128]:
    """The folded tile's spectrum on the band, unkeyed (each frequency's phase removed) and
    divided by the mean power of its ring (content falls off with frequency)."""
    values = np.fft.rfft2(folded)[lay.rows % FOLD, lay.cols] * np.conj(lay.phase)
    ring = np.round(lay.radius).astype(np.int64)
    power = np.bincount(ring, np.abs(values) ** 2) / np.maximum(np.bincount(ring), 1)
    return np.asarray(values / np.maximum(power, 1e-12)[ring])


def find_shift(values: NDArray[np.complex128], lay: Layout) -> tuple[float, int, int]:
    """Where the sync pattern correlates best (tile pixels), and how many standard
    deviations that peak stands above the rest."""
    product = np.zeros((TILE, TILE // 2 + 1), np.complex128)  # interpolates to tile pixels
    product[lay.rows[lay.sync], lay.cols[lay.sync]] = values[lay.sync]
    corr = np.fft.irfft2(product, (TILE, TILE))
    dy, dx = np.unravel_index(int(np.argmax(corr)), corr.shape)
    z_score = (corr[dy, dx] - corr.mean()) / max(float(corr.std()), 1e-12)
    return float(z_score), int(dy), int(dx)


def coded_bits(
    values: NDArray[np.complex128], lay: Layout, dy: int, dx: int
) -> NDArray[np.float32]:
    """Soft coded bits (positive: 1): each bit's frequencies projected onto its pattern
    with the tile shifted back by (dy, dx)."""
    aligned = values * np.exp(2j * np.pi * (lay.u * dy + lay.cols * dx) / TILE)
    bits = ~lay.sync
    n_coded = int(lay.slot.max()) + 1
    return np.bincount(lay.slot[bits], aligned.real[bits], n_coded).astype(np.float32)


def read(luma: NDArray[np.float32], n_coded: int) -> NDArray[np.float32] | None:
    """Soft coded bits at the placement (period and shift) where the sync stands out most,
    or None when the query shows no periodic tile at all."""
    lay = layout(n_coded)
    z = whiten(luma)
    best: tuple[float, NDArray[np.complex128], int, int] | None = None
    for base in periods(z, lay):
        for period in (base * (1 + offset) for offset in REFINE):
            values = band_values(fold(z, period), lay)
            z_score, dy, dx = find_shift(values, lay)
            if best is None or z_score > best[0]:
                best = (z_score, values, dy, dx)
    if best is None:
        return None
    _, values, dy, dx = best
    return coded_bits(values, lay, dy, dx)


def read_in_place(luma: NDArray[np.float32], n_coded: int) -> NDArray[np.float32]:
    """Soft coded bits where the embedder put the tile (period TILE, no shift): what a
    reader would see of an unedited copy."""
    lay = layout(n_coded)
    return coded_bits(band_values(fold(whiten(luma), float(TILE)), lay), lay, 0, 0)
