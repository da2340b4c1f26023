"""The style-artist set's split hygiene: a query that is a near-copy (recolour, mirror) of a
gallery drawing is not a new work of that artist and leaves the queries."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

from benchmarks.openclipart import near_copies
from tests.fakes import PALETTES, drawing


def test_near_copies_of_gallery_drawings_are_flagged(tmp_path: Path) -> None:
    original = drawing(1, PALETTES["alice"], size=128)
    images = {
        "gallery.png": original,
        "mirrored.png": ImageOps.mirror(original),
        "other.png": drawing(2, PALETTES["alice"], size=128),
        "train-copy.png": original,
    }
    paths = []
    for name, img in images.items():
        img.save(tmp_path / name)
        paths.append(tmp_path / name)
    splits = ["gallery", "query", "impostor", "train"]
    # the mirror is a copy; another drawing is not; train splits are never compared
    assert near_copies(paths, splits) == [False, True, False, False]


def test_without_a_gallery_nothing_is_a_copy(tmp_path: Path) -> None:
    path = tmp_path / "q.png"
    Image.new("RGB", (64, 64), "white").save(path)
    assert near_copies([path], ["query"]) == [False]
