"""Local features for geometric verification: SIFT keypoints with RootSIFT descriptors, and
the number of keypoint matches that agree on one placement of a work inside a query (a
rotation, scale and shift found by a seeded RANSAC, then refined to a homography where the
matches say the picture was seen at an angle), weighted by the share of keypoints they
explain and by how much of the work they cover. A query is also verified mirrored, since
SIFT does not match a mirror image. It finds copies that global embeddings miss after
rotation, cropping (mirrored or not) or pasting into a larger canvas, and it is
deterministic: the same pair always gives the same evidence, so it can be re-checked."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from models import homography

LONG_SIDE = 512  # larger images are detected at this long side
MAX_KEYPOINTS = 500
RATIO = 0.8  # Lowe's ratio test on descriptor distances
INLIER_PX = 8.0  # a match agrees with a placement when it lands this close (at LONG_SIDE)
SCALE_RANGE = (0.2, 5.0)  # placements outside this scale are degenerate, not copies
HYPOTHESES = 512  # RANSAC samples per pair
SEED = 0
CANDIDATES = 10  # a query is verified against this many of its closest works (by content)
GRID = 4  # coverage counts inliers in GRID x GRID cells over the work's keypoints
REFINE_ROUNDS = 3  # homography refits of the best similarity's loose inliers
REFINE_PX = 2 * INLIER_PX  # how far a match may lie from a placement to join its refit
REFINE_MIN = 8  # loose inliers a refit needs (a homography has 8 degrees of freedom)


def _opencv_version() -> str:
    """The installed OpenCV's version, without importing it: SIFT may change between releases,
    and a calibration measured with one must not pass for another."""
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("opencv-python-headless", "opencv-python", "opencv-contrib-python"):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "unknown"


_SIFT, _OPENCV = f"sift-root-{LONG_SIDE}-n{MAX_KEYPOINTS}", f"@opencv-{_opencv_version()}"
FEATURES_ID = _SIFT + _OPENCV  # how keypoints are extracted: the key they are stored under
MODEL_ID = (  # and how a pair is scored: what a calibration measured
    f"{_SIFT}+ransac-sim-r{RATIO:g}-px{INLIER_PX:g}-h{HYPOTHESES}"
    f"+homography-r{REFINE_ROUNDS}-px{REFINE_PX:g}-n{REFINE_MIN}-w{homography.MAX_WARP:g}"
    f"-s{homography.MAX_SQUASH:g}+share-cov{GRID}-both"
    f"+mirror{_OPENCV}"
)
_POINT_BYTES = 2 * 4
_DESC_BYTES = 128


@dataclass(frozen=True)
class LocalFeatures:
    """Keypoint positions [n, 2] (pixels, long side at most LONG_SIDE) and SIFT
    descriptors [n, 128] uint8."""

    points: NDArray[np.float32]
    descriptors: NDArray[np.uint8]

    def __len__(self) -> int:
        return len(self.points)

    def to_bytes(self) -> bytes:
        """Stored form: all points (float32), then all descriptors (uint8)."""
        return self.points.astype(np.float32).tobytes() + self.descriptors.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> LocalFeatures:
        n = len(data) // (_POINT_BYTES + _DESC_BYTES)
        points = np.frombuffer(data, np.float32, 2 * n).reshape(n, 2)
        descriptors = np.frombuffer(data, np.uint8, n * _DESC_BYTES, n * _POINT_BYTES)
        return cls(points, descriptors.reshape(n, _DESC_BYTES))

    def root(self) -> NDArray[np.float32]:
        """RootSIFT: square root of the L1-normalised descriptor (unit L2 norm)."""
        d = self.descriptors.astype(np.float32)
        out: NDArray[np.float32] = np.sqrt(d / np.maximum(d.sum(axis=1, keepdims=True), 1e-7))
        return out


def _detected_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size an image of `size` is detected at: its long side at most LONG_SIDE."""
    scale = min(1.0, LONG_SIDE / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _gray(img: Image.Image) -> NDArray[np.uint8]:
    gray = img.convert("L")
    return np.asarray(gray.resize(_detected_size(gray.size), Image.Resampling.BILINEAR), np.uint8)


def extract(img: Image.Image) -> LocalFeatures:
    """Detect up to MAX_KEYPOINTS SIFT keypoints of an image."""
    import cv2

    sift = cv2.SIFT_create(nfeatures=MAX_KEYPOINTS)  # type: ignore[attr-defined]
    keypoints, desc = sift.detectAndCompute(_gray(img), None)
    if desc is None or not keypoints:
        return LocalFeatures(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8))
    points = np.array([k.pt for k in keypoints], np.float32)[:MAX_KEYPOINTS]
    return LocalFeatures(points, np.clip(desc, 0, 255).astype(np.uint8)[:MAX_KEYPOINTS])


@dataclass(frozen=True)
class QueryFeatures:
    """A query's keypoints as it is and mirrored left to right."""

    as_is: LocalFeatures
    mirrored: LocalFeatures


def extract_query(img: Image.Image) -> QueryFeatures:
    """The keypoints a query is verified with: of the image and of its mirror image."""
    return QueryFeatures(extract(img), extract(ImageOps.mirror(img)))


def verify_query(query: QueryFeatures, work: LocalFeatures) -> tuple[Verification, float]:
    """The stronger placement of the work in the query as it is or mirrored, and its
    strength: a mirrored copy, cropped or pasted, is as much a copy as the original."""
    as_is, flipped = verify(query.as_is, work), verify(query.mirrored, work)
    scored = [
        (as_is, strength(as_is, query.as_is, work)),
        (replace(flipped, mirrored=True), strength(flipped, query.mirrored, work)),
    ]
    return max(scored, key=lambda pair: pair[1])  # ties: as it is


def _matches(query: LocalFeatures, work: LocalFeatures) -> tuple[NDArray[np.int64], ...]:
    """Query/work index pairs passing the ratio test, at most one query point per work point."""
    if len(query) < 2 or len(work) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sims = query.root() @ work.root().T
    dist = np.sqrt(np.maximum(2.0 - 2.0 * sims, 0.0))
    two = np.argpartition(dist, 1, axis=1)[:, :2]
    rows = np.arange(len(dist))
    d0, d1 = dist[rows, two[:, 0]], dist[rows, two[:, 1]]
    nearest = np.where(d0 <= d1, two[:, 0], two[:, 1])
    ok = np.minimum(d0, d1) < RATIO * np.maximum(d0, d1)
    q, w, d = rows[ok], nearest[ok], np.minimum(d0, d1)[ok]
    if not len(q):
        return q, w
    order = np.lexsort((d, w))  # per work point keep its closest query point
    q, w = q[order], w[order]
    first = np.r_[True, w[1:] != w[:-1]]
    return q[first], w[first]


@dataclass(frozen=True)
class Verification:
    """The best placement of a work in a query: how many keypoint matches agree on it
    (0 when fewer than 3), the share of the grid cells over the work where both images
    have keypoints that hold one of them, whether it lies in the query's mirror image, and
    the box around the work's keypoints as placed (its corners clockwise from the work's top
    left, in the keypoint coordinates of the query image verified; see `outline_in`)."""

    inliers: int
    coverage: float
    mirrored: bool = False
    outline: tuple[tuple[float, float], ...] = field(default=(), compare=False)


NOTHING = Verification(0, 0.0)


def verify(query: LocalFeatures, work: LocalFeatures) -> Verification:
    """Fit one placement of the work in the query to the matched keypoints (a similarity
    transform: rotation, uniform scale, shift; refined to a homography where that explains
    more of them), and measure how much it explains."""
    qi, wi = _matches(query, work)
    if len(qi) < 3:
        return NOTHING
    src = work.points[wi].astype(np.float64)
    dst = query.points[qi].astype(np.float64)
    rng = np.random.default_rng(SEED)
    pairs = rng.integers(0, len(qi), size=(HYPOTHESES, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    # complex numbers: a similarity transform is z -> a z + b
    zs, zd = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    ds = zs[pairs[:, 0]] - zs[pairs[:, 1]]
    ok = np.abs(ds) > 1.0
    a = (zd[pairs[ok, 0]] - zd[pairs[ok, 1]]) / ds[ok]
    b = zd[pairs[ok, 0]] - a * zs[pairs[ok, 0]]
    keep = (np.abs(a) > SCALE_RANGE[0]) & (np.abs(a) < SCALE_RANGE[1])
    a, b = a[keep], b[keep]
    if not len(a):
        return NOTHING
    agree = np.abs(a[:, None] * zs[None, :] + b[:, None] - zd[None, :]) < INLIER_PX
    counts = agree.sum(axis=1)
    best = int(counts.argmax())
    if counts[best] < 3:
        return NOTHING
    pts = work.points.astype(np.float64)
    box = (pts.min(axis=0), pts.max(axis=0), float(abs(a[best])))
    similarity = homography.from_similarity(a[best], b[best])
    placement, agreed = _refined(src, dst, similarity, agree[best], box)
    inlier = np.zeros(len(work), bool)
    inlier[wi[agreed]] = True
    (x0, y0), (x1, y1) = box[0], box[1]
    corners = homography.apply(placement, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
    # finite: a plausible placement keeps these corners in front of the camera
    outline = tuple((float(x), float(y)) for x, y in corners) if np.isfinite(corners).all() else ()
    return Verification(
        int(agreed.sum()), _coverage(query, work, placement, inlier), outline=outline
    )


def outline_in(found: Verification, size: tuple[int, int]) -> list[tuple[float, float]]:
    """Where the placed work lies in the query itself (`size`: its width and height in
    pixels): the outline's corners with the resize to LONG_SIDE and, for a mirrored
    placement, the mirror undone; empty where nothing was placed."""
    if not found.inliers:
        return []
    width, height = size
    resized = _detected_size(size)
    out = []
    for x, y in found.outline:
        if found.mirrored:
            x = resized[0] - 1 - x
        # pixel centres lie at whole coordinates in both images
        out.append(
            (
                round((x + 0.5) * width / resized[0] - 0.5, 1),
                round((y + 0.5) * height / resized[1] - 0.5, 1),
            )
        )
    return out


def _refined(
    src: NDArray[np.float64],
    dst: NDArray[np.float64],
    placement: NDArray[np.float64],
    agreed: NDArray[np.bool_],
    box: tuple[NDArray[np.float64], NDArray[np.float64], float],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The placement and the matches within INLIER_PX of it (`agreed`: those of the
    similarity it starts from), after up to REFINE_ROUNDS
    homographies refitted to the matches within REFINE_PX, each kept only while it is a
    plausible view of the work's keypoint `box` (low, high, the similarity's scale) and
    agrees with more matches. A photo of a screen or a print taken at an angle bends a
    similarity away from the far side; the null pairs verify as before (benchmarks/RESULTS.md,
    section placement)."""
    for _ in range(REFINE_ROUNDS):
        near = np.linalg.norm(homography.apply(placement, src) - dst, axis=1) < REFINE_PX
        if near.sum() < REFINE_MIN:
            break
        fitted = homography.fit(src[near], dst[near])
        if fitted is None or not homography.plausible(fitted, *box):
            break
        now = np.linalg.norm(homography.apply(fitted, src) - dst, axis=1) < INLIER_PX
        if now.sum() <= agreed.sum():
            break
        placement, agreed = fitted, now
    return placement, agreed


def _coverage(
    query: LocalFeatures,
    work: LocalFeatures,
    placement: NDArray[np.float64],
    inlier: NDArray[np.bool_],
) -> float:
    """Share of the work's GRID x GRID cells (over its keypoints' box) holding an inlier,
    among the cells where both images have keypoints: two or more of the work's, and one or
    more of the query's placed back by undoing the placement (a cell holding an inlier
    counts too). A copy, or a crop of one, covers what it shows; two works sharing a frame
    or a template cover only that part; a region the query has no keypoints in (cropped
    away, blanked, or starved by a busy page) is not held against it."""
    pts = work.points.astype(np.float64)
    low, span = pts.min(axis=0), np.ptp(pts, axis=0) + 1e-6
    placed = homography.apply(np.linalg.inv(placement), query.points.astype(np.float64))
    placed = placed[np.all((placed >= low) & (placed <= low + span), axis=1)]
    work_cell, query_cell = _cell(pts, low, span), _cell(placed, low, span)
    cells = GRID * GRID
    held = np.bincount(work_cell[inlier], minlength=cells) > 0
    both = (np.bincount(work_cell, minlength=cells) >= 2) & (
        np.bincount(query_cell, minlength=cells) > 0
    )
    return float(held[both | held].mean())


def _cell(
    points: NDArray[np.float64], low: NDArray[np.float64], span: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Index of the GRID x GRID cell of each point, over the box from `low` spanning `span`."""
    xy = np.clip(((points - low) / span * GRID).astype(np.int64), 0, GRID - 1)
    return xy[:, 0] * GRID + xy[:, 1]


def strength(found: Verification, query: LocalFeatures, work: LocalFeatures) -> float:
    """Evidence of a placement: its inlier count times the share of the sparser image's
    keypoints it explains, times its coverage squared (count^2 / min(n_query, n_work) *
    coverage^2). Two drawings sharing only a template, a flag's canton or a frame explain a
    small share of their keypoints, in part of the work; a copy, or the crop of one,
    explains most of the sparser side, all over what it shows (benchmarks/HISTORY.md)."""
    fewer = min(len(query), len(work))
    if not fewer:
        return 0.0
    return found.inliers * found.inliers / fewer * found.coverage * found.coverage
