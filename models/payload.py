"""The styletrace watermark payload: 32 bits naming one published copy, a 16-bit payload id
and a 16-bit keyed checksum (a truncated HMAC-SHA256 under the service's watermark secret),
so nobody without the secret can make a valid payload for another work. Decoding corrects
errors by trying the least reliable bits flipped (Chase decoding) against the checksum; a
method with its own error correction (spreadTile's convolutional code) tries no flips.
Which work a payload id names is the catalog's business, not this module's."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

ID_BITS = 16
TAG_BITS = 16
PAYLOAD_BITS = ID_BITS + TAG_BITS
MAX_ID = (1 << ID_BITS) - 1
CHASE_BITS = 2  # least reliable bits tried flipped: 2**CHASE_BITS candidate words
_DOMAIN = b"styletrace-watermark-v1"


@dataclass(frozen=True)
class Decoded:
    """A payload that passed its checksum: the id and how many bits had to be flipped."""

    payload_id: int
    corrected: int


def false_positive_rate(words: int) -> float:
    """Chance that an unwatermarked image decodes to a word with a valid checksum when
    `words` candidate words are tried: each passes with probability 2**-TAG_BITS (before
    the payload id is looked up at all)."""
    return words / (1 << TAG_BITS)


def tag(secret: bytes, payload_id: int) -> int:
    """The keyed checksum of a payload id."""
    mac = hmac.new(secret, _DOMAIN + payload_id.to_bytes(4, "big"), hashlib.sha256).digest()
    return int.from_bytes(mac[:4], "big") >> (32 - TAG_BITS)


def encode(secret: bytes, payload_id: int) -> NDArray[np.uint8]:
    """The 32 payload bits (most significant first) of a payload id."""
    if not 0 <= payload_id <= MAX_ID:
        raise ValueError(f"payload id {payload_id} is outside 0..{MAX_ID}")
    word = (payload_id << TAG_BITS) | tag(secret, payload_id)
    return np.array([(word >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)], np.uint8)


def _word(bits: NDArray[np.uint8]) -> int:
    return int("".join(str(int(b)) for b in bits), 2)


def decode(
    secret: bytes, soft: NDArray[np.floating], chase_bits: int = CHASE_BITS
) -> Decoded | None:
    """The payload in soft bits (positive: 1, magnitude: reliability), or None when no word
    within chase_bits flips of the least reliable bits passes the checksum, or the bits
    carry no information at all (all zero)."""
    if soft.shape != (PAYLOAD_BITS,) or not np.all(np.isfinite(soft)) or not np.any(soft):
        return None
    hard = (soft > 0).astype(np.uint8)
    weakest = np.argsort(np.abs(soft), kind="stable")[:chase_bits]
    for flips in range(chase_bits + 1):
        for chosen in combinations(weakest.tolist(), flips):
            bits = hard.copy()
            bits[list(chosen)] ^= 1
            word = _word(bits)
            payload_id = word >> TAG_BITS
            if word & ((1 << TAG_BITS) - 1) == tag(secret, payload_id):
                return Decoded(payload_id, flips)
    return None
