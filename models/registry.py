"""Model profiles as data: a profile JSON names the content, style and hash models and their
parameters; `create_embedder` is the one factory that builds an embedder from such a spec."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.content import EfficientNetLite0Embedder
from models.embedder import Embedder
from models.errors import ModelError
from models.openclip import OpenClipEmbedder
from models.projection import ProjectedEmbedder
from models.style import MagentaStyleEmbedder, VggStatsEmbedder
from models.style_stats import Lite0StyleStatsEmbedder
from models.views import VIEWS

PROFILE_DIR = Path(__file__).parent / "profiles"
CALIBRATION_DIR = Path(__file__).parent / "calibration"

EMBEDDERS: dict[str, type[Embedder]] = {
    cls.name: cls
    for cls in (
        EfficientNetLite0Embedder,
        Lite0StyleStatsEmbedder,
        VggStatsEmbedder,
        MagentaStyleEmbedder,
        OpenClipEmbedder,
    )
}


@dataclass(frozen=True)
class Profile:
    """A named pair of embedder specs (content, style) loaded from JSON, and the views of a
    query that content matching embeds (models/views.py)."""

    name: str
    content: dict[str, Any]
    style: dict[str, Any]
    source: Path | None = None
    content_views: str = "global"

    def embedder(self, role: str) -> Embedder:
        """The content or style embedder; projection files are found next to the profile."""
        base = self.source.parent if self.source else PROFILE_DIR
        return create_embedder(self.content if role == "content" else self.style, base)


def load_profile(name_or_path: str) -> Profile:
    """A profile by name (models/profiles/NAME.json) or by path to a JSON file."""
    path = Path(name_or_path)
    if path.suffix != ".json" and "/" not in name_or_path:
        path = PROFILE_DIR / f"{name_or_path}.json"
    if not path.is_file():
        known = sorted(p.stem for p in PROFILE_DIR.glob("*.json"))
        raise ModelError(f"model profile {name_or_path!r} not found (known: {', '.join(known)})")
    data = json.loads(path.read_text())
    views = data.get("content_views", "global")
    if views not in VIEWS:
        raise ModelError(f"{path}: unknown content_views {views!r}; known: {', '.join(VIEWS)}")
    return Profile(data.get("name", path.stem), data["content"], data["style"], path, views)


def create_embedder(spec: dict[str, Any], base_dir: Path = PROFILE_DIR) -> Embedder:
    """Build an embedder from {"kind": ..., "projection": optional .npz, "noise_cosine":
    optional (`Embedder.noise_cosine`, measured for the projected model), **params}."""
    params = dict(spec)
    kind = params.pop("kind", None)
    projection = params.pop("projection", None)
    noise_cosine = params.pop("noise_cosine", None)
    if kind not in EMBEDDERS:
        raise ModelError(f"unknown embedder kind {kind!r}; known: {', '.join(sorted(EMBEDDERS))}")
    try:
        embedder = EMBEDDERS[kind](**params)
    except TypeError as exc:
        raise ModelError(f"bad parameters for {kind}: {exc}") from exc
    if projection:
        embedder = ProjectedEmbedder(embedder, base_dir / projection)
    embedder.noise_cosine = noise_cosine
    return embedder
