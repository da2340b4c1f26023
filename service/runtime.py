"""Builds the running parts (models, catalog, library, calibration, matcher) from settings.
Tests pass fake embedders and a calibration here; nothing is loaded at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch

from indexer.catalog import Catalog
from indexer.library import IndexFactory, Library, faiss_index
from models import local
from models.embedder import Embedder
from models.registry import CALIBRATION_DIR, Profile, load_profile
from service.c2pa_cert import C2paCredentials, load_or_create
from service.calibration import Calibration
from service.matching import Matcher, MatchOptions
from service.publish import load_or_create_secret
from service.settings import Settings
from service.signing import Signer
from service.watermarks import WatermarkReader

log = logging.getLogger(__name__)


class CalibrationMissing(RuntimeError):
    """No calibration was measured for the models in use."""


@dataclass
class Runtime:
    """Everything a CLI command or the API needs, built once."""

    settings: Settings
    library: Library
    matcher: Matcher

    @cached_property
    def c2pa(self) -> C2paCredentials:
        """The C2PA certificate and key of published copies (development pair on first use)."""
        return load_or_create(*self.settings.c2pa_paths)

    @cached_property
    def signer(self) -> Signer:
        """The service's signing key (created on first use)."""
        return Signer.load_or_create(self.settings.signing_key_path)

    def options(self, top_k: int | None = None, creator: str | None = None) -> MatchOptions:
        """Match options from settings, scoped to `creator`'s works when given; a top_k over
        STYLETRACE_MAX_TOP_K is refused."""
        s = self.settings
        if top_k is not None and not 1 <= top_k <= s.max_top_k:
            raise ValueError(f"top_k must be between 1 and {s.max_top_k} (STYLETRACE_MAX_TOP_K)")
        return MatchOptions(
            top_k=top_k or s.default_top_k,
            style_neighbours=s.style_neighbours,
            works_per_creator=s.style_works_per_creator,
            match_rate=s.match_rate,
            possible_rate=s.possible_rate,
            creator=creator,
        )


def load_calibration(settings: Settings, profile_name: str, models: dict[str, str]) -> Calibration:
    """The calibration file for the profile; its model ids must be the ones in use."""
    path = (
        Path(settings.calibration)
        if settings.calibration
        else CALIBRATION_DIR / f"{profile_name}.json"
    )
    if not path.is_file():
        raise CalibrationMissing(
            f"no calibration at {path}: run `python -m benchmarks.calibrate --profile "
            f"{profile_name}` (`make calibrate` for the default profile)"
        )
    cal = Calibration.load(path)
    measured = {"content_views": "global"} | cal.models
    in_use = {k: v for k, v in models.items() if k != "local"}
    if cal.local is not None:  # its keypoint null must have scored pairs the same way
        in_use["local"] = local.MODEL_ID
    stale = [
        f"{k} (measured {measured.get(k)}, in use {in_use[k]})"
        for k in ("content", "style", "content_views", "content_crops", "content_paired", "local")
        if k in in_use and measured.get(k) != in_use[k]
    ]
    if stale:
        raise CalibrationMissing(
            f"calibration {path} was measured with other models or views: {'; '.join(stale)}. "
            f"Install the versions it was measured with (a new OpenCV changes the local model) "
            f"or run `python -m benchmarks.calibrate --profile {profile_name}`"
        )
    return cal


def _unopened_library(
    settings: Settings, profile: Profile, content: Embedder | None, style: Embedder | None
) -> Library:
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Library(
        settings.data_dir,
        Catalog(settings.db_url),
        content or profile.embedder("content"),
        style or profile.embedder("style"),
        profile.content_views,
        settings.ivf_from_vectors,
        _index_backend(settings),
    )


def _index_backend(settings: Settings) -> IndexFactory:
    """FAISS in process by default; Milvus when STYLETRACE_VECTOR_BACKEND=milvus."""
    if settings.vector_backend == "milvus":
        from indexer.milvus import milvus_index

        return milvus_index(settings.milvus, settings.milvus_prefix)
    return faiss_index


def open_library(
    settings: Settings, content: Embedder | None = None, style: Embedder | None = None
) -> Library:
    """Open (and reconcile) the library: enough to register, list and remove works."""
    library = _unopened_library(settings, load_profile(settings.profile), content, style)
    library.open()
    return library


def build_runtime(
    settings: Settings,
    content: Embedder | None = None,
    style: Embedder | None = None,
    calibration: Calibration | None = None,
) -> Runtime:
    """The library and a matcher with the calibration measured for its models; a missing or
    stale calibration is reported before the library is opened (which may re-embed)."""
    profile = load_profile(settings.profile)
    library = _unopened_library(settings, profile, content, style)
    if calibration is None:
        models = library.model_ids | {"content_views": profile.content_views}
        calibration = load_calibration(settings, profile.name, models)
    library.open()
    return Runtime(
        settings, library, Matcher(library, calibration, watermark_reader(settings, library))
    )


def watermark_reader(settings: Settings, library: Library) -> WatermarkReader:
    """Reads queries' watermarks with the service's secret (created on first use)."""
    secret = load_or_create_secret(settings.watermark_secret_path)
    return WatermarkReader(library.published, secret, settings.watermark_method)
