"""The calibration background leaves out what the copy benchmark scores: a drawing that is
a near duplicate of an evaluated work, mirrored or resized, is no null; and an artist's
drawings share one group, whichever dev set they come from."""

from __future__ import annotations

from pathlib import Path

from PIL import ImageOps

from benchmarks.calibrate import copy_group, not_evaluated, without_ids, work_id
from benchmarks.copyset import CopyItem, clipart_item_id
from models.pdq import hash_batch
from tests.fakes import PALETTES, drawing


def test_near_duplicates_of_evaluated_images_are_left_out(tmp_path: Path) -> None:
    works = [drawing(i, PALETTES["alice"], 128) for i in range(4)]
    evaluated = hash_batch(works[:2])
    pairs = []
    for i, img in enumerate([ImageOps.mirror(works[0]), works[1].resize((64, 64)), *works[2:]]):
        img.save(path := tmp_path / f"{i}.png")
        pairs.append((f"clip:g{i}", path))
    assert not_evaluated(pairs, evaluated) == pairs[2:]
    assert not_evaluated(pairs, hash_batch([])) == pairs


def test_clipart_ids_follow_the_copy_sets_naming() -> None:
    assert clipart_item_id("cezary-biele/iran.png") == "openclipart/cezary-biele/iran"
    assert clipart_item_id("a-b/odd name (1).png") == "openclipart/a-b/odd_name_1_"


def test_copy_split_drawings_are_grouped_under_their_creator(tmp_path: Path) -> None:
    flag = CopyItem("openclipart/sigge-kotliar/flag", "openclipart", "sigge-kotliar", tmp_path)
    stamp = CopyItem("tuxpaint/animals/cat", "tuxpaint", "animals", tmp_path)
    assert copy_group(flag) == "clip:sigge-kotliar"  # the gallery's label for that artist
    assert copy_group(stamp) == "copy:animals"


def test_drawings_held_elsewhere_are_left_out_by_work_id(tmp_path: Path) -> None:
    pairs = [
        ("clip:sigge-kotliar", tmp_path / "sigge-kotliar" / "trinidad and tobago.png"),
        ("clip:sigge-kotliar", tmp_path / "sigge-kotliar" / "chile.png"),
    ]
    assert work_id(pairs[0][1], tmp_path) == "openclipart/sigge-kotliar/trinidad_and_tobago"
    held = {"openclipart/sigge-kotliar/trinidad_and_tobago"}
    assert without_ids(pairs, held, tmp_path) == pairs[1:]
    assert without_ids(pairs, set(), tmp_path) == pairs
