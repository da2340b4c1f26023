"""The unseen-domain probe: which wallpaper files it reads (one per picture, none from the
copy set's folders), how it splits and edits them, and how it counts verdicts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.accuracy import Predictions
from benchmarks.edits import EDITS
from benchmarks.unseen_domain import (
    AS_IS,
    copy_recall_rows,
    cut_setters,
    edited,
    halves,
    non_copy_rows,
    picture_name,
    tables_text,
    unseen_pictures,
)


def _png(path: Path, side: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.effect_noise((side, side), 40).save(path)
    return path


def test_one_file_per_picture_and_none_from_the_copy_sets_folders(tmp_path: Path) -> None:
    kde, back = tmp_path / "wallpapers", tmp_path / "backgrounds"
    _png(kde / "Altai" / "contents" / "images" / "640x480.png", 32)
    big = _png(kde / "Altai" / "contents" / "images" / "1920x1080.png", 96)
    _png(kde / "Altai" / "contents" / "screenshot.png", 16)
    (kde / "Empty" / "contents" / "images").mkdir(parents=True)
    loose = _png(back / "calla.png", 24)
    (back / "notes.txt").write_text("not a picture")
    _png(back / "gnome" / "adwaita.png", 24)
    _png(back / "mate" / "stripes.png", 24)
    _png(back / "sway" / "blue_640x480.png", 24)
    sway = _png(back / "sway" / "blue_1920x1080.png", 64)
    found = unseen_pictures([kde, back, tmp_path / "missing"])
    assert found == [("wallpapers", big), ("backgrounds", loose), ("backgrounds-sway", sway)]


def test_halves_are_disjoint_seeded_and_cover_every_picture() -> None:
    mine, others = halves(9, 0)
    assert len(mine) == 4 and sorted(mine + others) == list(range(9))
    assert halves(9, 0) == (mine, others) and halves(9, 1) != (mine, others)


def test_each_image_comes_as_is_and_under_every_edit() -> None:
    images = [Image.effect_noise((48, 48), 30).convert("RGB") for _ in range(2)]
    out, labels = edited(images, 0)
    assert len(out) == len(labels) == 2 * (len(EDITS) + 1)
    assert labels[0] == AS_IS and out[0] is images[0] and set(labels[1:13]) == set(EDITS)
    assert edited(images, 0)[0][1].tobytes() == out[1].tobytes()  # seeded


def _result(content: str, upper: float = 1.0) -> Any:
    return SimpleNamespace(
        content=SimpleNamespace(verdict=content, upper=upper),
        thresholds=SimpleNamespace(match=0.001, possible=0.01),
    )


def test_copy_rows_need_the_true_source_first() -> None:
    labels, truth = [AS_IS, AS_IS, "blur", "blur", "jpeg"], ["a", "b", "a", "b", "a"]
    copies = [
        _result("match", 0.005),  # measured counts alone reach `possible`, not `match`
        _result("match", 1e-4),  # holds on measured counts alone, but x ranks first
        _result("possible"),
        _result("none"),
        _result("match", 1e-4),
    ]
    found = Predictions(np.array([5.0, 4.0, 3.0, 0.5, 5.0]), ["a", "x", "a", "b", "a"])
    negatives = Predictions(np.array([1.0] * 100), [""] * 100)  # 1% lets one through: > 1.0
    # PDQ alone: the copies as is clear the cut; a's blurred copy does not, b's ranks a first
    pdq = (Predictions(np.array([1.5, 1.5, 0.2, 1.5, 1.5]), ["a", "b", "a", "a", "a"]), negatives)
    rows = {
        row[0]: row[1:] for row in copy_recall_rows(labels, truth, copies, found, negatives, pdq)
    }
    assert rows[AS_IS] == [2, 1.0, 0.5, 0.5, 0.0, 0.5, 0.5]  # b's ranks x first: no credit
    assert rows["blur"] == [2, 0.0, 0.5, 0.0, 0.0, 0.0, 0.5]  # b's blurred copy: under the cut
    assert rows["jpeg"] == [1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert rows["all"] == [5, 0.6, 0.6, 0.4, 0.2, 0.4, 0.6]


def test_non_copy_rows_count_every_verdict_but_none() -> None:
    labels = [AS_IS, AS_IS, "blur", "blur"]
    results = [_result("match"), _result("none"), _result("possible"), _result("none")]
    rows = {row[0]: row[1:] for row in non_copy_rows(labels, results)}
    assert rows[AS_IS] == [2, 0.5, 0.5] and rows["blur"] == [2, 0.0, 0.5]
    assert rows["all"] == [4, 0.25, 0.5]


def test_tables_text_names_the_copies_and_where_the_cut_is_set() -> None:
    row = ["all", 1, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    text = tables_text(
        ("Copies of X", "Y's top-1 scores"), "The Zs", [row], [["all", 2, 0.0, 0.5]], "Set by W."
    )
    assert text[0].startswith("Copies of X (recall at 1% false-match rate is set on the Y's")
    assert text[0].endswith("quarter turns). Set by W.")
    assert text[2].startswith("The Zs: every content `match` is a false match")
    assert "| all | 1 | 1.000 |" in text[1] and "| all | 2 | 0.000 | 0.500 |" in text[3]


def test_cut_setters_name_the_pictures_whose_edits_set_the_cut() -> None:
    """200 non-copies: 1% lets 2 through, and the third sets the cut. One picture's three
    edits top the list, so one picture sets the cut for every copy."""
    scores = np.array([0.1] * 197 + [0.9, 0.8, 0.7])
    pictures = ["other"] * 197 + ["card"] * 3
    line = cut_setters(scores, pictures)
    assert line == (
        "The product's cut is set by the 3 highest-scoring of the 200 non-copies (2 let "
        "through, and the next): edits of 1 distinct picture (`card`)."
    )
    spread = cut_setters(np.arange(500.0), [f"p{k}" for k in range(500)])
    assert "edits of 6 distinct pictures (`p499`, `p498`, `p497`, ...)" in spread


def test_picture_name_is_the_kde_package_or_the_file() -> None:
    kde = Path("/usr/share/wallpapers/Altai/contents/images/5120x2880.png")
    assert picture_name(kde) == "Altai"
    assert picture_name(Path("/usr/share/backgrounds/sway/Sway_Wallpaper_Blue_1920x1080.png")) == (
        "Sway_Wallpaper_Blue_1920x1080"
    )
