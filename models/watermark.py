"""Invisible watermarks in pixels: embedding bits and reading them back as soft bits, by the
methods of the `invisible-watermark` package (dwtDct, dwtDctSvd, rivaGan) and by styletrace's
own spreadTile (models/spread_*.py: a tiled spread-spectrum mark under a convolutional code,
read blind after resizing, cropping and JPEG). Embedding the package's methods uses the
package; reading dwtDct and dwtDctSvd is vectorised here (the package loops over blocks in
Python; tests check both read the same bits), because detection runs on every query.
What the bits mean (payloads, generators) lives in models/payload.py and models/marks.py."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np
import pywt  # type: ignore[import-untyped]
from numpy.typing import NDArray
from PIL import Image

from models import convcode, spread_embed, spread_read
from models.payload import CHASE_BITS
from models.spread_tile import TILE, detection_scale, frame_luma

MIN_PIXELS = 256 * 256  # the package refuses smaller images
SCALE = 36.0  # quantisation step of the package's defaults
BLOCK = 4


class CannotCarry(ValueError):
    """The image cannot carry a watermark (too small)."""


class Method(Protocol):
    """One embedding method: bits into pixels, and soft bits back (positive: 1)."""

    @property
    def name(self) -> str: ...

    @property
    def chase_bits(self) -> int:
        """Least reliable payload bits the checksum tries flipped (2**chase_bits words)."""
        ...

    @property
    def min_pixels(self) -> int:
        """Smaller images are not read (nothing could have been read from them)."""
        ...

    def embed(self, image: Image.Image, bits: NDArray[np.uint8]) -> Image.Image: ...

    def soft_bits(self, image: Image.Image, n_bits: int) -> NDArray[np.float32]: ...


def bgr(image: Image.Image) -> NDArray[np.uint8]:
    """The package's pixel layout: BGR, uint8."""
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def _package_embed(image: Image.Image, bits: NDArray[np.uint8], method: str) -> Image.Image:
    from imwatermark import WatermarkEncoder  # type: ignore[import-untyped]

    if image.width * image.height < MIN_PIXELS:
        raise CannotCarry(f"{image.width}x{image.height} is under 256x256 pixels")
    encoder = WatermarkEncoder()
    encoder.set_watermark("bits", [int(b) for b in bits])
    if method == "rivaGan":
        RivaGan.load()
    out = encoder.encode(bgr(image), method)
    return Image.fromarray(np.ascontiguousarray(out[:, :, ::-1]).astype(np.uint8))


def u_blocks(pixels: NDArray[np.uint8]) -> NDArray[np.float64]:
    """[n, 16] 4x4 blocks, row-major, of the Haar approximation of the U channel of BGR
    pixels: where the package's DWT methods put their bits."""
    rows, cols = pixels.shape[0] // 4 * 4, pixels.shape[1] // 4 * 4
    u = cv2.cvtColor(pixels, cv2.COLOR_BGR2YUV)[:rows, :cols, 1]
    approx, _ = pywt.dwt2(u, "haar")
    br, bc = approx.shape[0] // BLOCK, approx.shape[1] // BLOCK
    blocks = approx[: br * BLOCK, : bc * BLOCK].reshape(br, BLOCK, bc, BLOCK)
    return np.asarray(blocks.transpose(0, 2, 1, 3).reshape(br * bc, BLOCK * BLOCK))


def spread(votes: NDArray[np.bool_], n_bits: int) -> NDArray[np.float32]:
    """Soft bits in [-1, 1]: block k votes for bit k % n_bits; the mean vote, centred."""
    if not len(votes):
        return np.zeros(n_bits, np.float32)
    slots = np.arange(len(votes)) % n_bits
    ones = np.bincount(slots, weights=votes.astype(np.float64), minlength=n_bits)
    counts = np.maximum(np.bincount(slots, minlength=n_bits), 1)
    return (2 * ones / counts - 1).astype(np.float32)


def dwt_dct_votes(blocks: NDArray[np.float64], scale: float = SCALE) -> NDArray[np.bool_]:
    """Per block: is its largest non-DC coefficient in the upper half of its step?"""
    pos = np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1
    value = np.abs(blocks[np.arange(len(blocks)), pos])
    return np.asarray((value % scale) > 0.5 * scale)


def dwt_svd_votes(blocks: NDArray[np.float64], scale: float = SCALE) -> NDArray[np.bool_]:
    """Per block: is its largest singular value (that of its DCT: an orthogonal transform)
    in the upper half of its step?"""
    top = np.linalg.svd(blocks.reshape(-1, BLOCK, BLOCK), compute_uv=False)[:, 0]
    return np.asarray((top % scale) > 0.5 * scale)


@dataclass(frozen=True)
class DwtDct:
    """The package's dwtDct: the Stable Diffusion reference pipelines' method."""

    name: str = "dwtDct"
    chase_bits: int = CHASE_BITS
    min_pixels: int = MIN_PIXELS

    def embed(self, image: Image.Image, bits: NDArray[np.uint8]) -> Image.Image:
        return _package_embed(image, bits, "dwtDct")

    def soft_bits(self, image: Image.Image, n_bits: int) -> NDArray[np.float32]:
        return spread(dwt_dct_votes(u_blocks(bgr(image))), n_bits)


@dataclass(frozen=True)
class DwtDctSvd:
    """The package's dwtDctSvd."""

    name: str = "dwtDctSvd"
    chase_bits: int = CHASE_BITS
    min_pixels: int = MIN_PIXELS

    def embed(self, image: Image.Image, bits: NDArray[np.uint8]) -> Image.Image:
        return _package_embed(image, bits, "dwtDctSvd")

    def soft_bits(self, image: Image.Image, n_bits: int) -> NDArray[np.float32]:
        return spread(dwt_svd_votes(u_blocks(bgr(image))), n_bits)


class RivaGan:
    """The package's RivaGAN (ONNX encoder and decoder shipped in the package, 32 bits)."""

    name = "rivaGan"
    chase_bits = CHASE_BITS
    min_pixels = MIN_PIXELS
    _lock = threading.Lock()
    _decoder: Any = None

    @classmethod
    def load(cls) -> Any:
        """Load both ONNX sessions once (the package keeps them on its class)."""
        with cls._lock:
            if cls._decoder is None:
                from imwatermark.rivaGan import RivaWatermark  # type: ignore[import-untyped]

                RivaWatermark.loadModel()
                cls._decoder = RivaWatermark.decoder
            return cls._decoder

    def embed(self, image: Image.Image, bits: NDArray[np.uint8]) -> Image.Image:
        return _package_embed(image, bits, "rivaGan")

    def soft_bits(self, image: Image.Image, n_bits: int) -> NDArray[np.float32]:
        frame = np.asarray(image.convert("RGB"))[:, :, ::-1].astype(np.float32) / 127.5 - 1.0
        frame = frame.transpose(2, 0, 1)[None, :, None]
        logits = np.asarray(self.load().run(None, {"frame": frame})[0][0], np.float32)
        return logits[:n_bits] - 0.52  # the package's threshold


@dataclass(frozen=True)
class SpreadTile:
    """styletrace's tiled spread-spectrum mark: the payload under a rate-1/3 convolutional
    code, decoded by Viterbi into one word, so the checksum tries no flips."""

    name: str = "spreadTile"
    chase_bits: int = 0
    min_pixels: int = TILE * TILE  # one tile: a 256x256 copy at half size

    def embed(self, image: Image.Image, bits: NDArray[np.uint8]) -> Image.Image:
        if min(image.size) * detection_scale(*image.size) < TILE:
            raise CannotCarry(f"{image.width}x{image.height} is narrower than one tile")
        rgb = np.asarray(image.convert("RGB"), np.float32)
        return Image.fromarray(spread_embed.embed(rgb, convcode.encode(bits)))

    def soft_bits(self, image: Image.Image, n_bits: int) -> NDArray[np.float32]:
        """The Viterbi-decoded payload as +-1; zeros when no tile shows at all."""
        luma = frame_luma(np.asarray(image.convert("RGB"), np.float32))
        soft = spread_read.read(luma, convcode.coded_length(n_bits))
        if soft is None:
            return np.zeros(n_bits, np.float32)
        return np.where(convcode.decode(soft) == 1, 1.0, -1.0).astype(np.float32)


METHODS: dict[str, Method] = {m.name: m for m in (DwtDct(), DwtDctSvd(), RivaGan(), SpreadTile())}
