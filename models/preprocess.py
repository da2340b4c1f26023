"""Turning RGB PIL images into batched float tensors for the embedders."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from models.stages import stage


def to_batch(
    images: Sequence[Image.Image],
    size: int,
    mean: Sequence[float],
    std: Sequence[float],
    scale: float = 1.0 / 255.0,
) -> torch.Tensor:
    """Resize each image to size x size (whole image, no crop: borders and edits stay visible),
    then normalise channel-wise: (pixel * scale - mean) / std. Returns [n, 3, size, size]."""
    with stage("preprocess"):
        pixels = np.stack(
            [
                np.asarray(img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR))
                for img in images
            ]
        )
        # NHWC pixels viewed as NCHW stay channels-last in memory, which the convolutions
        # run fastest on (the models are converted to match when loaded)
        batch = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() * scale
        m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
        return (batch - m) / s


def gem(features: torch.Tensor, p: float = 3.0, eps: float = 1e-6) -> torch.Tensor:
    """Generalised-mean pooling over the spatial axes of [n, c, h, w] -> [n, c]."""
    return features.clamp(min=eps).pow(p).mean(dim=(2, 3)).pow(1.0 / p)
