"""The style head's pieces: the palette histogram, the style statistics' blocks, and the
WCCN projection fitted on labelled vectors."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.projection import ProjectedEmbedder, fit_wccn, save_projection
from models.registry import create_embedder
from models.style_stats import PALETTE_LEVELS, colour_histogram
from tests.fakes import PALETTES, drawing


def test_colour_histogram_sees_palette_not_layout() -> None:
    red = Image.new("RGB", (32, 32), (250, 10, 10))
    red_blue = Image.new("RGB", (32, 32), (250, 10, 10))
    red_blue.paste((10, 10, 250), (0, 0, 16, 32))
    blue_red = Image.new("RGB", (32, 32), (250, 10, 10))
    blue_red.paste((10, 10, 250), (16, 0, 32, 32))
    h = colour_histogram([red, red_blue, blue_red])
    assert h.shape == (3, PALETTE_LEVELS**3)
    np.testing.assert_allclose(np.linalg.norm(h, axis=1), 1.0, atol=1e-6)
    assert h[1] @ h[2] == pytest.approx(1.0)  # same colours, other places
    assert h[0] @ h[1] < 0.9


@pytest.mark.slow
def test_style_statistics_blocks_are_each_unit_length() -> None:
    embedder = create_embedder({"kind": "lite0_style_stats", "image_size": 64})
    raw = embedder.embed_raw([drawing(0, PALETTES["alice"], size=64)])[0]
    # 7 stage blocks + head + palette, each normalised before the whole vector is
    norms = []
    start = 0
    for width in (32, 48, 80, 160, 224, 384, 640, 1280, PALETTE_LEVELS**3):
        norms.append(np.linalg.norm(raw[start : start + width]))
        start += width
    assert start == embedder.dim
    np.testing.assert_allclose(norms, norms[0], rtol=1e-4)


def _two_styles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[str]]:
    """Classes differ along axis 0 by a little; within-class noise is huge along axis 1."""
    a = rng.normal(size=(n, 6)) * [0.2, 5.0, 1, 1, 1, 1]
    b = a.copy()
    b[:, 0] += 1.5
    return np.concatenate([a, b]), ["a"] * n + ["b"] * n


def test_wccn_head_separates_styles_that_raw_cosine_confuses(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train, train_labels = _two_styles(rng, 200)
    test, test_labels = _two_styles(rng, 100)
    mean, matrix = fit_wccn(train, train_labels, dim=6)
    assert matrix.shape == (6, 6) and mean.shape == (6,)

    def nn_accuracy(x: np.ndarray) -> float:
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        sims = x @ x.T
        np.fill_diagonal(sims, -np.inf)
        labels = np.asarray(test_labels)
        return float(np.mean(labels[sims.argmax(1)] == labels))

    raw = nn_accuracy(test - test.mean(0))
    head = nn_accuracy((test - mean) @ matrix)
    assert 1 - head < 0.5 * (1 - raw)  # at least halves the nearest-neighbour error

    path = tmp_path / "head.npz"
    save_projection(path, mean, matrix)
    projected = ProjectedEmbedder(create_embedder({"kind": "efficientnet_lite0"}), path)
    np.testing.assert_allclose(
        projected.project(test[:2]),
        (test[:2] - mean)
        @ matrix
        / np.linalg.norm((test[:2] - mean) @ matrix, axis=1, keepdims=True),
        rtol=1e-4,
    )
