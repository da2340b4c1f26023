"""What a library is made of and gives back: the embedding spaces it indexes (a model and
the views of a work), a work submitted for registration, a search hit and a registration's
outcome. The library itself lives in indexer/library.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from indexer.catalog import Work
from models.embedder import Embedder
from models.views import CROP_SIDE, Views, ViewScheme, embed_each


@dataclass(frozen=True)
class Submission:
    """One image to register, already decoded by the safe loader."""

    creator_id: str
    work_id: str
    image: Image.Image
    data: bytes
    sha256: str
    source: str
    meta: dict[str, Any] | None = None


@dataclass(frozen=True)
class Space:
    """An embedding space: its model, and the views of a work it indexes (None: the whole
    image, one vector per work; else one vector per view, all under the work's id)."""

    embedder: Embedder
    views: Views | None = None
    views_id: str = ""

    @property
    def model_id(self) -> str:
        """Identifies the indexed vectors: the model, and the views when there are any."""
        return f"{self.embedder.model_id}@{self.views_id}" if self.views else self.embedder.model_id

    @property
    def raw_id(self) -> str:
        """Key of the stored raw vectors: the raw model, and the views when there are any."""
        raw = self.embedder.raw_model_id
        return f"{raw}@{self.views_id}" if self.views else raw

    def views_of(self, img: Image.Image) -> list[Image.Image]:
        """The images this space embeds for one work."""
        return [img] if self.views is None else self.views(img)


def embed_spaces(
    spaces: Mapping[str, Space], images: Sequence[Image.Image]
) -> dict[str, NDArray[np.float32]]:
    """Per space, [n, v, raw_dim] raw vectors of its views of each image (v = 1 without
    views): one forward pass per model over all its spaces' views, so that an image two
    spaces embed (a paired view that leaves the work as it is) is embedded once. At least one
    image: a space's view count is read from the first."""
    out: dict[str, NDArray[np.float32]] = {}
    for embedder in {id(sp.embedder): sp.embedder for sp in spaces.values()}.values():
        names = [name for name, sp in spaces.items() if sp.embedder is embedder]
        made = {name: [spaces[name].views_of(img) for img in images] for name in names}
        per_image = [[v for name in names for v in made[name][i]] for i in range(len(images))]
        vecs = embed_each(embedder.embed_raw, per_image, embedder.raw_dim)
        start = 0
        for name in names:
            width = len(made[name][0])
            out[name] = vecs[:, start : start + width]
            start += width
    return out


def crops_space(content: Embedder, scheme: ViewScheme) -> Space:
    """The space of works' extra views (several vectors per work), as the library indexes it
    and the calibration names it: its id follows the crops' geometry, so stored crops and a
    calibration measured with other crops are never taken for these."""
    if not scheme.indexes_work_views:
        raise ValueError("this view scheme indexes no work views")
    return Space(content, scheme.work, f"{scheme.work_id}-side{CROP_SIDE:g}")


def paired_space(content: Embedder, scheme: ViewScheme) -> Space:
    """The space of works' paired content view (one vector per work), as the library indexes
    it and the calibration names it."""
    paired = scheme.paired
    if paired is None:
        raise ValueError("this view scheme pairs no view")
    return Space(content, lambda img: [paired(img)], scheme.paired_id)


@dataclass(frozen=True)
class Hit:
    """One search result: the score (cosine, or Hamming distance for PDQ) and the work."""

    score: float
    work: Work


@dataclass(frozen=True)
class Registered:
    """Outcome of one registration: the stored work and whether it is new."""

    work: Work
    created: bool
