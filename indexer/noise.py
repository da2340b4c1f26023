"""Works that are random noise to the content model: to it every noise image of a size is one
grey texture, so such a work would match every other (measured: benchmarks/HISTORY.md, stop 42)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from models.embedder import Embedder
from models.errors import FeaturelessImage


def noise_probes(width: int, height: int) -> tuple[Image.Image, Image.Image]:
    """Uniform random noise of a size, in colour and in grey: the same for every image of
    that size, whatever the batch."""
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), np.uint8)
    grey = np.repeat(pixels[..., :1], 3, axis=2)
    return Image.fromarray(pixels), Image.fromarray(grey)


def noise_refusals(
    content: Embedder, images: Sequence[Image.Image], whole: NDArray[np.float32]
) -> list[FeaturelessImage | None]:
    """Per image (`whole`: its whole-image content vectors), the refusal of one the content
    model cannot tell from random noise of its size, in colour or grey, at or over the
    model's measured `noise_cosine`; an unmeasured model checks nothing."""
    if content.noise_cosine is None:
        return [None] * len(images)
    probes = [probe for img in images for probe in noise_probes(img.width, img.height)]
    per_probe = (content.embed(probes).reshape(len(images), 2, -1) * whole[:, None]).sum(-1)
    return [
        FeaturelessImage(
            f"the image is random noise to the content model (cosine {c:.2f} with noise of "
            f"its size; {content.noise_cosine:.2f} or more is noise): registered, it "
            "would match every noise image of its size, so it is not registered"
        )
        if c >= content.noise_cosine
        else None
        for c in per_probe.max(axis=1)
    ]
