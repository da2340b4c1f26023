"""PDQ perceptual hashes (Meta's `pdqhash`) for exact and near-exact copies, including the
eight dihedral variants (flips and quarter turns) of a query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

PDQ_BITS = 256
PDQ_BYTES = PDQ_BITS // 8
MODEL_ID = "pdq-256"
MATCH_DISTANCE = 31  # PDQ's published near-duplicate distance (ThreatExchange): closer is a copy


@dataclass(frozen=True)
class PdqHash:
    """A 256-bit hash packed into 32 bytes, and PDQ's quality score (0-100)."""

    bits: bytes
    quality: int


def _pack(bits: NDArray[np.integer]) -> bytes:
    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8)))


def pixels(img: Image.Image) -> NDArray[np.uint8]:
    """The RGB array PDQ is computed on: at most 512 px, since PDQ downsamples internally
    and that keeps it fast on big uploads."""
    small = img.convert("RGB")
    small.thumbnail((512, 512), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(small, dtype=np.uint8))


def pdq_hash(img: Image.Image) -> PdqHash:
    """PDQ hash of an RGB image."""
    import pdqhash

    bits, quality = pdqhash.compute(pixels(img))
    return PdqHash(_pack(bits), int(quality))


def pdq_dihedral(img: Image.Image) -> list[PdqHash]:
    """Hashes of the image under all eight rotations/reflections (the original first)."""
    import pdqhash

    hashes, quality = pdqhash.compute_dihedral(pixels(img))
    return [PdqHash(_pack(bits), int(quality)) for bits in hashes]


def informative(code: bytes | NDArray[np.uint8]) -> bool:
    """Whether a packed hash says anything about its image. PDQ cannot read an image under
    8 px a side (once scaled to 512 px: a 20000x20 strip too) or of one flat colour, and
    gives it quality 0 and the all-zero hash, which is at distance 0 from every other such
    image; a hash of anything else has about half its bits set."""
    return any(bytes(code))


def hamming(a: bytes, b: bytes) -> int:
    """Number of differing bits between two packed hashes."""
    return int(
        np.unpackbits(
            np.frombuffer(bytes(x ^ y for x, y in zip(a, b, strict=True)), dtype=np.uint8)
        ).sum()
    )


def hash_batch(images: Sequence[Image.Image]) -> NDArray[np.uint8]:
    """[n, 32] uint8 array of packed PDQ hashes."""
    return (
        np.stack([np.frombuffer(pdq_hash(img).bits, np.uint8) for img in images])
        if images
        else np.zeros((0, PDQ_BYTES), np.uint8)
    )


def dihedral_distances(img: Image.Image, codes: NDArray[np.uint8]) -> NDArray[np.int64]:
    """Smallest Hamming distance from any of the image's 8 dihedral hashes to each of the
    packed [n, 32] codes: how matching compares a query with registered works."""
    if not len(codes):
        return np.zeros(0, np.int64)
    variants = np.stack([np.frombuffer(h.bits, np.uint8) for h in pdq_dihedral(img)])
    xor = np.bitwise_xor(variants[:, None, :], codes[None, :, :])
    distances: NDArray[np.int64] = np.unpackbits(xor, axis=2).sum(axis=2).min(axis=0)
    return distances.astype(np.int64)


def near_duplicate_of(img: Image.Image, codes: NDArray[np.uint8]) -> int | None:
    """Index of the code nearest the image under its eight dihedral variants when within
    MATCH_DISTANCE (a copy by PDQ's published standard); None when none is, or none given."""
    distances = dihedral_distances(img, codes)
    if not len(distances) or distances.min() > MATCH_DISTANCE:
        return None
    return int(distances.argmin())
