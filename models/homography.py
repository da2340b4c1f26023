"""Plane-to-plane placements (3x3 homographies) for keypoint verification: a least-squares
fit to matched points, applying one, and the check that one is a plausible view of a flat
picture (a photo of a screen or a print taken at an angle), not a fold or a collapse."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

MAX_WARP = 1.6  # the local scale anywhere on the work stays within this factor of the seed's
MAX_SQUASH = 2.0  # and no direction is stretched more than this against the other


def from_similarity(a: complex, b: complex) -> NDArray[np.float64]:
    """The homography of the similarity z -> a z + b (points as complex x + iy)."""
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag], [0.0, 0.0, 1.0]])


def _normaliser(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Hartley's conditioning: centre the points, mean distance sqrt(2)."""
    centre = points.mean(axis=0)
    spread = np.sqrt(((points - centre) ** 2).sum(axis=1)).mean()
    s = np.sqrt(2.0) / max(spread, 1e-9)
    return np.array([[s, 0.0, -s * centre[0]], [0.0, s, -s * centre[1]], [0.0, 0.0, 1.0]])


def fit(src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """The homography mapping `src` [n, 2] onto `dst` in the least-squares sense (normalised
    DLT; n >= 4), or None where the points do not determine one."""
    if len(src) < 4:
        return None
    ts, td = _normaliser(src), _normaliser(dst)
    s, d = apply(ts, src), apply(td, dst)
    rows = np.zeros((2 * len(s), 9))
    rows[0::2, 0:2], rows[0::2, 2] = s, 1.0
    rows[0::2, 6:8], rows[0::2, 8] = -d[:, :1] * s, -d[:, 0]
    rows[1::2, 3:5], rows[1::2, 5] = s, 1.0
    rows[1::2, 6:8], rows[1::2, 8] = -d[:, 1:] * s, -d[:, 1]
    _, singular, vt = np.linalg.svd(rows)
    if singular[7] < 1e-9:  # rank under 8 (three on a line, repeats): no unique plane
        return None
    h = np.linalg.inv(td) @ vt[-1].reshape(3, 3) @ ts
    depth = h[2, :2] @ src.mean(axis=0) + h[2, 2]  # scaled to +1 where the points are
    return h / depth if abs(depth) > 1e-12 else None


def apply(h: NDArray[np.floating], points: NDArray[np.floating]) -> NDArray[np.float64]:
    """`points` [n, 2] mapped by `h`; a point sent to infinity comes back as inf."""
    mapped = np.c_[points, np.ones(len(points))] @ h.T
    w = mapped[:, 2:3]
    finite = np.abs(w) > 1e-12
    out: NDArray[np.float64] = np.where(finite, mapped[:, :2] / np.where(finite, w, 1.0), np.inf)
    return out


def plausible(
    h: NDArray[np.float64], low: NDArray[np.float64], high: NDArray[np.float64], scale: float
) -> bool:
    """Whether `h` shows the box [low, high] of a flat picture as a camera could: every corner
    in front of it, the box kept convex and unmirrored (a mirror image is verified on its
    own), and at each corner a local scale within MAX_WARP of `scale` (the similarity it
    refines), stretched at most MAX_SQUASH more one way than the other."""
    corners = np.array([[low[0], low[1]], [high[0], low[1]], [high[0], high[1]], [low[0], high[1]]])
    w = corners @ h[2, :2] + h[2, 2]
    if np.any(w <= 0):
        return False
    for x, y, depth in zip(corners[:, 0], corners[:, 1], w, strict=True):
        top = h[:2, :2] @ (x, y) + h[:2, 2]
        jacobian = (h[:2, :2] * depth - np.outer(top, h[2, :2])) / (depth * depth)
        det = float(np.linalg.det(jacobian))
        if det <= 0:  # folded over or mirrored here
            return False
        local_scale = np.sqrt(det) / scale
        stretch = np.linalg.svd(jacobian, compute_uv=False)
        if not 1 / MAX_WARP < local_scale < MAX_WARP or stretch[0] > MAX_SQUASH * stretch[1]:
            return False
    return True
