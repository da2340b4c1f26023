"""Real embedders on tiny images: unit vectors of the stated size, deterministic, with model
ids naming their weights; the open_clip path with a tiny local weights file; the registry."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from models.embedder import Embedder
from models.errors import ModelError
from models.openclip import OpenClipEmbedder
from models.registry import create_embedder, load_profile
from tests.fakes import PALETTES, drawing

IMAGES = [drawing(i, PALETTES["alice"], size=64) for i in range(3)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "efficientnet_lite0"},
        {"kind": "magenta"},
        {"kind": "vgg_stats", "image_size": 64},
        {"kind": "lite0_style_stats", "image_size": 64},
    ],
)
def test_real_embedders_give_unit_vectors(spec: dict[str, object]) -> None:
    embedder = create_embedder(spec)
    a = embedder.embed(IMAGES)
    b = embedder.embed(IMAGES[:1])
    assert a.shape == (3, embedder.dim) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(a[0], b[0], atol=1e-4)  # batching does not change a vector
    assert len(embedder.model_id.rsplit("-", 1)[-1]) == 16  # weights hash


@pytest.mark.slow
def test_content_embedder_sees_a_copy_as_closer_than_another_drawing() -> None:
    embedder = create_embedder({"kind": "efficientnet_lite0"})
    copy = IMAGES[0].resize((48, 48)).resize((64, 64))
    v = embedder.embed([IMAGES[0], copy, IMAGES[1]])
    assert v[0] @ v[1] > v[0] @ v[2]


def _tiny_open_clip(tmp_path: Path) -> tuple[Path, Path]:
    import open_clip

    config = tmp_path / "tiny-styletrace-test.json"
    config.write_text(
        json.dumps(
            {
                "embed_dim": 16,
                "vision_cfg": {
                    "image_size": 32,
                    "layers": 1,
                    "width": 32,
                    "patch_size": 16,
                    "head_width": 16,
                },
                "text_cfg": {
                    "context_length": 8,
                    "vocab_size": 64,
                    "width": 16,
                    "heads": 2,
                    "layers": 1,
                },
            }
        )
    )
    open_clip.add_model_config(str(config))
    torch.manual_seed(0)
    weights = tmp_path / "tiny.pt"
    torch.save(open_clip.create_model("tiny-styletrace-test").state_dict(), weights)
    return config, weights


@pytest.mark.slow
def test_open_clip_loads_a_local_weights_file(tmp_path: Path) -> None:
    config, weights = _tiny_open_clip(tmp_path)
    spec = {
        "kind": "open_clip",
        "architecture": "tiny-styletrace-test",
        "pretrained": str(weights),
        "config": str(config),
    }
    embedder = create_embedder(spec)
    v = embedder.embed(IMAGES)
    assert v.shape == (3, 16) and embedder.dim == 16
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    other = tmp_path / "other.pt"
    torch.save({k: t + 1 for k, t in torch.load(weights).items()}, other)
    assert OpenClipEmbedder("tiny-styletrace-test", str(other)).model_id != embedder.model_id


def test_open_clip_unknown_tag_is_a_clear_error() -> None:
    embedder: Embedder = create_embedder(
        {"kind": "open_clip", "architecture": "RN50", "pretrained": "no-such-tag"}
    )
    with pytest.raises(ModelError, match="neither a file nor a tag"):
        embedder.embed([Image.new("RGB", (8, 8))])


def test_registry_rejects_unknown_kinds_and_parameters() -> None:
    with pytest.raises(ModelError, match="unknown embedder kind"):
        create_embedder({"kind": "nope"})
    with pytest.raises(ModelError, match="bad parameters"):
        create_embedder({"kind": "magenta", "colour": "red"})
    with pytest.raises(ModelError, match="not found"):
        load_profile("no-such-profile")
    assert load_profile("default").content["kind"] == "efficientnet_lite0"
