"""The photometric probe's pieces: thumbnails that ignore brightness and contrast, and the
best candidate under a query's flips."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from benchmarks.photometric import best_of_candidates, dihedral, grey_thumbnail
from tests.fakes import PALETTES, drawing


def test_grey_thumbnail_ignores_brightness_and_contrast_but_not_content() -> None:
    thumb = grey_thumbnail(16)
    img = drawing(0, PALETTES["alice"], 128)
    dimmed = ImageEnhance.Contrast(ImageEnhance.Brightness(img).enhance(0.7)).enhance(0.8)
    assert abs(float(thumb(img) @ thumb(img)) - 1) < 1e-9
    assert abs(float(thumb(img).sum())) < 1e-9  # zero mean: a uniform shift changes nothing
    assert float(thumb(img) @ thumb(dimmed)) > 0.99
    assert float(thumb(img) @ thumb(drawing(1, PALETTES["alice"], 128))) < 0.9


def test_best_of_candidates_finds_a_mirrored_copy_among_the_candidates() -> None:
    thumb = grey_thumbnail(16)
    works = [drawing(i, PALETTES["alice"], 128) for i in range(4)]
    work_thumbs = np.stack([thumb(w) for w in works])
    queries = dihedral([ImageOps.mirror(works[2]), works[3]], thumb)
    found, corr = best_of_candidates(queries, work_thumbs, np.array([[0, 1, 2], [0, 1, 2]]))
    assert found[0] == 2 and corr[0] > 0.999  # the flip is undone by a variant
    assert corr[1] < 0.999  # work 3 is not a candidate: the best of the others is no copy


def test_dihedral_gives_the_eight_flips_and_quarter_turns() -> None:
    img = Image.new("RGB", (20, 20), "white")
    img.paste((0, 0, 0), (0, 0, 6, 3))  # a bar in one corner: no two variants alike
    variants = dihedral([img], grey_thumbnail(8))[0]
    assert variants.shape == (8, 64)
    assert len({tuple(np.round(v, 6)) for v in variants}) == 8
