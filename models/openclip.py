"""open_clip image towers as embedders for either role: any architecture, with `pretrained`
a tag (where a model hub is reachable) or a local weights file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image

from models.embedder import Embedder, file_sha256
from models.errors import ModelError


def resolve_weights(architecture: str, pretrained: str) -> Path:
    """The weights file behind `pretrained`: the path itself, or the download of a tag."""
    if Path(pretrained).is_file():
        return Path(pretrained)
    from open_clip.pretrained import download_pretrained, get_pretrained_cfg

    cfg = get_pretrained_cfg(architecture, pretrained)
    if not cfg:
        raise ModelError(f"open_clip: {pretrained!r} is neither a file nor a tag of {architecture}")
    return Path(download_pretrained(cfg))


class OpenClipEmbedder(Embedder):
    """Image features of an open_clip model. `config` optionally registers an architecture
    JSON first (for custom or CSD-style models that open_clip does not ship)."""

    name = "open_clip"

    def __init__(self, architecture: str, pretrained: str, config: str = "") -> None:
        super().__init__()
        self.architecture = architecture
        self.pretrained = pretrained
        self.config = config
        self._model: Any = None
        self._preprocess: Any = None
        self._dim: int | None = None
        self._id = ""  # set from the weights file, resolved (and for a tag fetched) on first use

    @property
    def model_id(self) -> str:
        if not self._id:
            weights = resolve_weights(self.architecture, self.pretrained)
            self._id = f"{self.name}-{self.architecture}-{file_sha256(weights)[:16]}"
        return self._id

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.load()
        assert self._dim is not None
        return self._dim

    def _load(self) -> None:
        import open_clip

        if self.config:
            open_clip.add_model_config(self.config)
        weights = resolve_weights(self.architecture, self.pretrained)
        model, _, preprocess = open_clip.create_model_and_transforms(
            self.architecture, pretrained=str(weights)
        )
        self._model = model.eval()
        self._preprocess = preprocess
        with torch.inference_mode():
            probe = self._preprocess(Image.new("RGB", (32, 32))).unsqueeze(0)
            self._dim = int(self._model.encode_image(probe).shape[1])

    def _embed(self, images: Sequence[Image.Image]) -> NDArray[np.floating]:
        batch = torch.stack([self._preprocess(img.convert("RGB")) for img in images])
        with torch.inference_mode():
            features: torch.Tensor = self._model.encode_image(batch)
        return features.float().numpy()
