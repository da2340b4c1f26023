"""Query views for content matching: crops let a work pasted into a larger canvas meet itself;
the calibration's null is measured with the same views, and a profile whose views differ
from its calibration's is refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexer.library import WORK_CROPS, Library
from models.views import VIEWS
from service.calibrate import content_null, content_scores, embed_views, embed_work_views
from service.calibration import Calibration
from service.matching import Matcher
from service.runtime import CalibrationMissing, Runtime, load_calibration
from service.settings import Settings
from tests.fakes import PALETTES, PixelEmbedder, drawing
from tests.service.test_matching import _query, _register_gallery


def test_crops5_gives_the_image_and_five_half_size_crops() -> None:
    img = Image.new("RGB", (200, 100))
    views = VIEWS["crops5"].query(img)
    assert views[0] is img and len(views) == 6
    assert all(v.size == (140, 70) for v in views[1:])
    assert VIEWS["global"].query(img) == [img]
    assert VIEWS["crops5"].work(img) == [] and not VIEWS["crops5"].indexes_work_views
    assert [v.size for v in VIEWS["crops5-both"].work(img)] == [(140, 70)] * 5


def test_view_null_takes_each_pair_at_its_best_view() -> None:
    images = [drawing(i, PALETTES["alice" if i % 2 else "bob"]) for i in range(6)]
    creators = ["a" if i % 2 else "b" for i in range(6)]
    embedder = PixelEmbedder()
    vectors = embedder.embed(images)
    views = embed_views(embedder, images, "crops5")
    assert views.shape == (6, 6, embedder.dim)
    np.testing.assert_allclose(views[:, 0], vectors, atol=1e-6)  # the first view is the image
    whole = vectors @ vectors.T
    best = content_null(content_scores(vectors, views), creators)
    other = np.asarray(creators)[:, None] != np.asarray(creators)[None, :]
    assert len(best) == other.sum()  # ordered pairs: i's views against j's work
    assert np.all(best >= whole[other] - 1e-6)
    assert np.any(best > whole[other] + 1e-3)


def test_pasted_work_scores_higher_with_crop_views(runtime: Runtime, fake_cal: Calibration) -> None:
    _register_gallery(runtime)
    canvas = Image.new("RGB", (128, 128), (235, 235, 235))
    canvas.paste(drawing(102, PALETTES["bob"]), (0, 0))  # bob/2.png covers the top-left 56%
    crops = dataclasses.replace(fake_cal, models=fake_cal.models | {"content_views": "crops5"})
    opts = runtime.options(3)
    plain = runtime.matcher.match([_query(canvas)], opts)[0].content.matches
    viewed = Matcher(runtime.library, crops).match([_query(canvas)], opts)[0].content.matches
    assert viewed[0].work_id == "bob/2.png"
    plain_score = next((m.score for m in plain if m.work_id == "bob/2.png"), 0.0)
    assert viewed[0].score > plain_score + 0.05


def test_calibration_measured_with_other_views_is_refused(
    settings: Settings, fake_cal: Calibration, tmp_path: Path
) -> None:
    path = tmp_path / "cal.json"
    fake_cal.save(path)
    pinned = settings.model_copy(update={"calibration": str(path)})
    models = dict(fake_cal.models)
    assert load_calibration(pinned, "fake", models).models == fake_cal.models
    with pytest.raises(CalibrationMissing, match="views"):
        load_calibration(pinned, "fake", models | {"content_views": "crops5"})


def test_work_views_null_adds_the_query_against_each_works_crops() -> None:
    images = [drawing(i, PALETTES["alice" if i % 2 else "bob"]) for i in range(6)]
    creators = ["a" if i % 2 else "b" for i in range(6)]
    embedder = PixelEmbedder()
    views = embed_views(embedder, images, "crops5-both")
    crops = embed_work_views(embedder, images, "crops5-both")
    assert crops.shape == (6, 5, embedder.dim)
    np.testing.assert_allclose(crops, views[:, 1:], atol=1e-6)  # as work_is_query_crops says
    assert embed_work_views(embedder, images, "crops5").shape == (6, 0, embedder.dim)
    query_side = content_null(content_scores(views[:, 0], views), creators)
    both = content_null(content_scores(views[:, 0], views, crops), creators)
    assert both.shape == query_side.shape and np.all(both >= query_side - 1e-6)
    assert np.any(both > query_side + 1e-3)


def _library(runtime: Runtime, views: str = "crops5-both") -> Library:
    """A library over the runtime's catalog and models, indexing works with these views."""
    lib = Library(
        runtime.settings.data_dir,
        runtime.library.catalog,
        runtime.library.embedders["content"],
        runtime.library.embedders["style"],
        views,
    )
    lib.open()
    return lib


def test_a_crop_of_a_work_meets_the_works_indexed_crops(
    runtime: Runtime, fake_cal: Calibration
) -> None:
    _register_gallery(runtime)
    lib = _library(runtime)  # reconciled from the catalog: crops embedded from the blobs
    assert len(lib.indexes[WORK_CROPS]) == 5 * len(lib)
    original = drawing(102, PALETTES["bob"])
    cut = original.crop((0, 0, 67, 67))  # the top-left half of bob/2.png, the first crop
    crops = dataclasses.replace(fake_cal, models=fake_cal.models | {"content_views": "crops5-both"})
    opts = runtime.options(3)
    plain = runtime.matcher.match([_query(cut)], opts)[0].content.matches
    both = Matcher(lib, crops).match([_query(cut)], opts)[0].content.matches
    assert both[0].work_id == "bob/2.png"
    plain_score = next((m.score for m in plain if m.work_id == "bob/2.png"), 0.0)
    assert both[0].score > plain_score + 0.05
    lib.remove("bob/2.png")
    assert len(lib.indexes[WORK_CROPS]) == 5 * len(lib)
    after = Matcher(lib, crops).match([_query(cut)], opts)[0].content.matches
    assert all(m.work_id != "bob/2.png" for m in after)


def test_work_crops_are_restored_from_stored_vectors(runtime: Runtime) -> None:
    _register_gallery(runtime)
    first = _library(runtime)
    stored = dict(first.catalog.vectors(WORK_CROPS, first.spaces[WORK_CROPS].raw_id))
    assert len(stored) == len(first)
    again = _library(runtime)  # no snapshot saved: restored from the catalog's vectors
    assert len(again.indexes[WORK_CROPS]) == 5 * len(again)


def test_a_calibration_with_work_views_needs_a_library_indexing_them(
    runtime: Runtime, fake_cal: Calibration
) -> None:
    crops = dataclasses.replace(fake_cal, models=fake_cal.models | {"content_views": "crops5-both"})
    lib = _library(runtime, "crops5")
    assert WORK_CROPS not in lib.spaces
    with pytest.raises(ValueError, match="views"):
        Matcher(lib, crops)
