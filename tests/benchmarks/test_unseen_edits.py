"""Unseen edits: the non-copies are distinct pictures, each under one held-out edit."""

from __future__ import annotations

import random

from PIL import Image

from benchmarks.edits import HELD_OUT
from benchmarks.unseen_edits import one_edit_each


def test_each_non_copy_gets_one_edit_in_turn_seeded() -> None:
    images = [Image.effect_noise((64, 48), 20 + k).convert("RGB") for k in range(23)]
    out, labels = one_edit_each(images, 1, HELD_OUT)
    names = list(HELD_OUT)
    assert labels == [names[k % len(names)] for k in range(23)]
    assert all(labels.count(n) in (2, 3) for n in names)  # balanced across the edits
    again, _ = one_edit_each(images, 1, HELD_OUT)
    assert [a.tobytes() for a in again] == [o.tobytes() for o in out]  # seeded
    k, name = 13, labels[13]  # picture 13 under its edit, seeded by seed, picture and edit
    expected = HELD_OUT[name](images[k], random.Random(f"1:{k}:{name}"))
    assert out[k].tobytes() == expected.tobytes() != images[k].tobytes()
