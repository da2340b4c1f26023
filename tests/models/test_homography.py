"""Homographies for keypoint verification (models/homography.py): the fit recovers a known
view of a plane, and only views a camera could take of a flat picture pass as plausible."""

from __future__ import annotations

import numpy as np
import pytest

from models import homography

LOW, HIGH = np.array([0.0, 0.0]), np.array([400.0, 300.0])


def _keystone(squeeze: float) -> np.ndarray:
    """A view of the box whose right side is shrunk by `squeeze` towards its middle."""
    src = np.array([[0, 0], [400, 0], [400, 300], [0, 300]], float)
    dst = src.copy()
    dst[1, 1], dst[2, 1] = 150 * squeeze, 300 - 150 * squeeze
    fitted = homography.fit(src, dst)
    assert fitted is not None
    return fitted


def test_fit_recovers_a_known_homography_from_noisy_points() -> None:
    truth = np.array([[0.9, 0.1, 12.0], [-0.05, 1.1, -7.0], [2e-4, -1e-4, 1.0]])
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 400, (60, 2))
    dst = homography.apply(truth, src) + rng.normal(0, 0.05, (60, 2))
    fitted = homography.fit(src, dst)
    assert fitted is not None
    np.testing.assert_allclose(
        homography.apply(fitted, src), homography.apply(truth, src), atol=0.2
    )


def test_fit_needs_four_points_no_three_on_one_line() -> None:
    line = np.array([[x, 2.0 * x] for x in range(10)], float)
    assert homography.fit(line[:3], line[:3]) is None
    assert homography.fit(line, line + 5) is None
    three_on_a_line = np.array([[0, 0], [1, 2], [2, 4], [5, 1]], float)
    assert homography.fit(three_on_a_line, three_on_a_line + 5) is None
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    assert homography.fit(square, square + 5) is not None


def test_a_view_is_fitted_in_front_wherever_the_points_lie() -> None:
    """A work whose keypoints lie far from its origin: a keystone of them puts the origin
    behind the camera (w < 0 there). The fit keeps the points' side in front, so the view
    stays plausible once fitted from the points."""
    shift = np.array([[1.0, 0, -5000], [0, 1.0, 0], [0, 0, 1.0]])  # box at x 5000-5400
    view = _keystone(0.25) @ shift
    low, high = np.array([5000.0, 0.0]), np.array([5400.0, 300.0])
    assert view[2, 2] < 0 and homography.plausible(view, low, high, 1.0)
    src = np.array([[x, y] for x in (5000, 5200, 5400) for y in (0, 150, 300)], float)
    fitted = homography.fit(src, homography.apply(view, src))
    assert fitted is not None and homography.plausible(fitted, low, high, 1.0)


def test_a_similarity_maps_as_z_to_az_plus_b() -> None:
    a, b = complex(0.8, 0.3), complex(5, -2)
    points = np.array([[10.0, 20.0], [-3.0, 7.5]])
    z = points[:, 0] + 1j * points[:, 1]
    mapped = homography.apply(homography.from_similarity(a, b), points)
    np.testing.assert_allclose(mapped[:, 0] + 1j * mapped[:, 1], a * z + b)


def test_a_point_on_the_horizon_maps_to_infinity() -> None:
    h = np.array([[1.0, 0, 0], [0, 1.0, 0], [0.01, 0, 1.0]])  # w = 0 at x = -100
    assert np.isinf(homography.apply(h, np.array([[-100.0, 5.0]]))).all()


@pytest.mark.parametrize(("squeeze", "expected"), [(0.0, True), (0.25, True), (0.6, False)])
def test_a_keystone_is_plausible_up_to_the_warp_limit(squeeze: float, expected: bool) -> None:
    assert homography.plausible(_keystone(squeeze), LOW, HIGH, 1.0) is expected


def test_mirrors_folds_and_far_scales_are_not_plausible() -> None:
    mirror = np.diag([-1.0, 1.0, 1.0])
    squashed = np.diag([1.3, 0.6, 1.0])  # scale 0.88, one axis 2.2x the other: past MAX_SQUASH
    behind = np.array([[1.0, 0, 0], [0, 1.0, 0], [-0.004, 0, 1.0]])  # the far corners behind
    for h in (mirror, squashed, behind):
        assert not homography.plausible(h, LOW, HIGH, 1.0)
    assert not homography.plausible(np.eye(3), LOW, HIGH, 2.0)  # half the similarity's scale
    assert homography.plausible(np.eye(3) * [[1.2], [1.2], [1.0]], LOW, HIGH, 1.0)
