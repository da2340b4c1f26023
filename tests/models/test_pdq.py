"""PDQ: hashes survive light edits, dihedral distances see flips and quarter turns."""

import io

import numpy as np
from PIL import Image, ImageOps

from models.pdq import dihedral_distances, hamming, hash_batch, near_duplicate_of, pdq_hash
from tests.fakes import PALETTES, drawing


def test_light_edits_stay_close_and_other_drawings_far() -> None:
    img = drawing(5, PALETTES["alice"], size=256)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=40)
    jpeg = Image.open(buf).convert("RGB")
    other = drawing(6, PALETTES["bob"], size=256)
    assert hamming(pdq_hash(img).bits, pdq_hash(jpeg).bits) <= 31
    assert hamming(pdq_hash(img).bits, pdq_hash(other).bits) > 31


def test_dihedral_distances_match_flips_and_rotations() -> None:
    img = drawing(7, PALETTES["carol"], size=256)
    codes = hash_batch([img, drawing(8, PALETTES["dave"], size=256)])
    for variant in (ImageOps.mirror(img), img.rotate(90, expand=True), ImageOps.flip(img)):
        d = dihedral_distances(variant, codes)
        assert d[0] <= 31 < d[1]  # within PDQ's near-duplicate distance
    assert dihedral_distances(img, np.zeros((0, 32), np.uint8)).shape == (0,)


def test_near_duplicate_of_names_the_nearest_code_within_the_match_distance() -> None:
    img = drawing(7, PALETTES["carol"], size=256)
    other = drawing(8, PALETTES["dave"], size=256)
    codes = hash_batch([other, img])
    assert near_duplicate_of(ImageOps.mirror(img), codes) == 1
    assert near_duplicate_of(img, codes[:1]) is None  # only a different drawing is registered
    assert near_duplicate_of(img, np.zeros((0, 32), np.uint8)) is None
