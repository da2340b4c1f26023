"""Reading watermarks out of a query: the styletrace payload (models/payload.py, with the
service's secret) and the default invisible watermarks of open image generators (the DWT
watermark of the Stable Diffusion reference pipelines, embedded with `invisible-watermark`'s
dwtDct). Both read the same Haar blocks, computed once per image. Facts only: which work a
payload names is looked up by the service."""

from __future__ import annotations

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


def read(image: Image.Image, secret: bytes | None, method: str) -> list[Found]:
    """Every watermark found in the image; nothing for images too small to carry one."""
    if image.width * image.height < MIN_PIXELS:
        return []
    pixels = bgr(image)
    votes = [dwt_dct_votes(u_blocks(pixels)), dwt_dct_votes(u_blocks(pixels[:, :, ::-1].copy()))]
    found = generator_marks(votes)
    if secret is not None:
        soft = (
            spread(votes[0], payload.PAYLOAD_BITS)
            if method == "dwtDct"
            else METHODS[method].soft_bits(image, payload.PAYLOAD_BITS)
        )
        decoded = payload.decode(secret, soft)
        if decoded is not None:
            found.insert(
                0,
                Found(
                    "styletrace",
                    round(1.0 - payload.FALSE_POSITIVE_RATE, 9),
                    payload_id=decoded.payload_id,
                    bit_errors=decoded.corrected,
                ),
            )
    return found
