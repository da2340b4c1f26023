"""Style statistics from EfficientNet-Lite0: per-stage channel mean and standard deviation
(the feature statistics that style transfer matches, at seven depths), the GeM-pooled head,
and the colour palette, each block L2-normalised and concatenated. Raw, these are the input
of the style head: a linear projection fitted by `make train-style` (models/projection.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image

from models.content import lite0_weights_path, load_lite0
from models.embedder import Embedder, file_sha256, l2_normalise
from models.preprocess import gem, to_batch

STAGE_WIDTHS = (16, 24, 40, 80, 112, 192, 320)  # tf_efficientnet_lite0 block outputs
HEAD_WIDTH = 1280
PALETTE_LEVELS = 8  # per channel: an 8x8x8 RGB histogram


def colour_histogram(
    images: Sequence[Image.Image], levels: int = PALETTE_LEVELS
) -> NDArray[np.float32]:
    """Square-rooted RGB histogram (Hellinger), levels^3 bins over a 64x64 thumbnail; rows
    L2-normalised. Also the colour baseline of the accuracy benchmark."""
    rows = []
    step = 256 // levels
    for img in images:
        q = np.asarray(img.convert("RGB").resize((64, 64)), np.int64) // step
        idx = (q[..., 0] * levels + q[..., 1]) * levels + q[..., 2]
        rows.append(np.sqrt(np.bincount(idx.ravel(), minlength=levels**3).astype(np.float32)))
    return l2_normalise(np.stack(rows)) if rows else np.zeros((0, levels**3), np.float32)


class Lite0StyleStatsEmbedder(Embedder):
    """Concatenated, per-block L2-normalised style statistics (see the module docstring)."""

    name = "lite0_style_stats"

    def __init__(self, image_size: int = 256, palette: bool = True, weights: str = "") -> None:
        super().__init__()
        self.image_size = image_size
        self.palette = palette
        self.weights = Path(weights) if weights else lite0_weights_path()
        self._model: Any = None
        tag = "pal" if palette else "nopal"
        self._id = f"{self.name}-{image_size}-{tag}-{file_sha256(self.weights)[:16]}"

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dim(self) -> int:
        return 2 * sum(STAGE_WIDTHS) + HEAD_WIDTH + (PALETTE_LEVELS**3 if self.palette else 0)

    def _load(self) -> None:
        self._model = load_lite0(self.weights)

    def _embed(self, images: Sequence[Image.Image]) -> NDArray[np.floating]:
        m = self._model
        x = to_batch(images, self.image_size, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        blocks = []
        with torch.inference_mode():
            x = m.bn1(m.conv_stem(x))
            for stage in m.blocks:
                x = stage(x)
                blocks.append(torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], dim=1).numpy())
            blocks.append(gem(m.bn2(m.conv_head(x)), 3.0).numpy())
        if self.palette:
            blocks.append(colour_histogram(images))
        return np.concatenate([l2_normalise(b) for b in blocks], axis=1)
