"""Reading watermarks out of a query: the styletrace payload (models/payload.py, with the
service's secret, by every method the service has published copies with) and the default
invisible watermarks of open image generators (the DWT watermark of the Stable Diffusion
reference pipelines, embedded with `invisible-watermark`'s dwtDct, read from the Haar blocks
in both channel orders). Facts only: which work a payload names is looked up by the
service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from models import payload
from models.watermark import METHODS, MIN_PIXELS, bgr, dwt_dct_votes, spread, u_blocks

ERROR_SHARE = 0.1  # bits of a generator's message that may read wrong (edits, re-encoding)


def _bits(value: int, length: int) -> NDArray[np.uint8]:
    return np.array([(value >> (length - 1 - i)) & 1 for i in range(length)], np.uint8)


def _text_bits(text: str) -> NDArray[np.uint8]:
    return np.unpackbits(np.frombuffer(text.encode(), np.uint8))


@dataclass(frozen=True)
class GeneratorMark:
    """A generator's fixed watermark message, as its reference code embeds it."""

    generator: str
    embedded_by: str
    bits: NDArray[np.uint8]

    @property
    def max_errors(self) -> int:
        return int(len(self.bits) * ERROR_SHARE)

    @property
    def false_positive_rate(self) -> float:
        """Chance that uniformly random bits fall within max_errors of the message."""
        n = len(self.bits)
        return float(sum(comb(n, k) for k in range(self.max_errors + 1)) / (1 << n))


GENERATOR_MARKS = (
    GeneratorMark(  # 0xB3EC907BB19E: diffusers' StableDiffusionXLWatermarker, sgm helpers
        "stable-diffusion-xl",
        "diffusers SDXL pipelines and Stability AI generative-models",
        _bits(0b101100111110110010010000011110111011000110011110, 48),
    ),
    GeneratorMark(  # the message of later generative-models releases (SV3D, SVD samplers)
        "stability-generative-models",
        "Stability AI generative-models (later releases)",
        _bits(0b001010101111111010000111100111001111010100101110, 48),
    ),
    GeneratorMark(
        "stable-diffusion-v1",
        "CompVis stable-diffusion scripts/txt2img.py",
        _text_bits("StableDiffusionV1"),
    ),
    GeneratorMark(
        "stable-diffusion-v2", "Stability AI stablediffusion scripts/txt2img.py", _text_bits("SDV2")
    ),
)


@dataclass(frozen=True)
class Found:
    """A watermark read from an image: styletrace's payload id, or a generator's message."""

    kind: str  # "styletrace" or the generator
    confidence: float  # 1 - the chance an unwatermarked image reads like this
    payload_id: int | None = None
    bit_errors: int = 0
    detail: str = ""
    method: str = ""  # the embedding method a styletrace payload was read with


def generator_marks(blocks_by_order: list[NDArray[np.bool_]]) -> list[Found]:
    """Generator messages within their error budget, in either channel order (diffusers
    hands the encoder RGB where it expects BGR; the CompVis scripts convert)."""
    found = []
    for mark in GENERATOR_MARKS:
        errors = min(
            int(np.sum((spread(votes, len(mark.bits)) > 0) != mark.bits))
            for votes in blocks_by_order
        )
        if errors <= mark.max_errors:
            found.append(
                Found(
                    mark.generator,
                    round(1.0 - mark.false_positive_rate, 9),
                    bit_errors=errors,
                    detail=f"invisible-watermark dwtDct message of {mark.embedded_by}",
                )
            )
    return found


def false_positive_rate(methods: Sequence[str]) -> float:
    """Chance that an unwatermarked image yields a valid styletrace checksum when read with
    these methods: every candidate word each of them tries counts."""
    return payload.false_positive_rate(sum(1 << METHODS[m].chase_bits for m in set(methods)))


def styletrace_marks(image: Image.Image, secret: bytes, methods: Sequence[str]) -> list[Found]:
    """The styletrace payloads the image carries, by each method in turn (one per id)."""
    confidence = round(1.0 - false_positive_rate(methods), 9)
    found: dict[int, Found] = {}
    for name in dict.fromkeys(methods):
        method = METHODS[name]
        if image.width * image.height < method.min_pixels:
            continue
        soft = method.soft_bits(image, payload.PAYLOAD_BITS)
        decoded = payload.decode(secret, soft, method.chase_bits)
        if decoded is not None and decoded.payload_id not in found:
            found[decoded.payload_id] = Found(
                "styletrace",
                confidence,
                payload_id=decoded.payload_id,
                bit_errors=decoded.corrected,
                method=name,
            )
    return list(found.values())


def read(image: Image.Image, secret: bytes | None, methods: Sequence[str]) -> list[Found]:
    """Every watermark found in the image, styletrace payloads (read with each of the
    methods) first; none a method cannot read at this size."""
    own = styletrace_marks(image, secret, methods) if secret is not None else []
    if image.width * image.height < MIN_PIXELS:
        return own
    pixels = bgr(image)
    votes = [dwt_dct_votes(u_blocks(pixels)), dwt_dct_votes(u_blocks(pixels[:, :, ::-1].copy()))]
    return own + generator_marks(votes)
