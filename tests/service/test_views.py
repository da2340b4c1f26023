"""Query views for content matching: crops let a work pasted into a larger canvas meet itself,
a paired grey low-pass view lets a greyed or blurred copy meet its source's same view; the
calibration's null is measured with the same views, and a profile whose views differ from its
calibration's is refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from indexer.library import WORK_CROPS, WORK_PAIRED, Library
from indexer.spaces import embed_spaces
from models import local
from models.views import (
    CROP_SIDE,
    SIDE,
    VIEWS,
    ViewScheme,
    crops5,
    embed_once,
    five_crops,
    grey,
    grey_low_pass,
    low_pass,
    nothing,
    trimmed,
    whole,
)
from service.calibrate import (
    content_null,
    content_scores,
    embed_views,
    embed_work_views,
    fit_calibration,
    view_scores,
)
from service.calibration import Calibration
from service.matching import Matcher
from service.runtime import CalibrationMissing, Runtime, load_calibration
from service.settings import Settings
from tests.fakes import PALETTES, HistogramEmbedder, PixelEmbedder, drawing
from tests.service.test_matching import _query, _register_gallery


def test_crops5_gives_the_image_and_five_half_size_crops() -> None:
    img = Image.new("RGB", (200, 100))
    views = VIEWS["crops5"].query(img)
    assert views[0] is img and len(views) == 6
    assert all(v.size == (140, 70) for v in views[1:])
    assert VIEWS["global"].query(img) == [img]
    assert VIEWS["crops5"].work(img) == [] and not VIEWS["crops5"].indexes_work_views
    assert [v.size for v in VIEWS["crops5-both"].work(img)] == [(140, 70)] * 5


def test_views_drop_colour_or_detail() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (100, 150, 3), dtype=np.uint8)
    img = Image.fromarray(pixels)
    g = np.asarray(grey(img))
    assert g.shape == (100, 150, 3) and (g[..., 0] == g[..., 2]).all()
    smooth = np.asarray(low_pass(img), np.float32)
    assert smooth.shape == (SIDE, SIDE, 3)
    assert smooth.std() < 0.3 * pixels.std()  # noise is mostly fine detail
    both = np.asarray(grey_low_pass(img))
    assert both.shape == (SIDE, SIDE, 3) and (both[..., 0] == both[..., 1]).all()


def _textured(w: int, h: int, seed: int = 0, low: int = 0, high: int = 256) -> Image.Image:
    """Coarse random blocks of levels in [low, high): no smooth line anywhere."""
    shape = (h // 8 + 1, w // 8 + 1, 3)
    blocks = np.random.default_rng(seed).integers(low, high, shape, np.uint8)
    return Image.fromarray(blocks).resize((w, h), Image.Resampling.NEAREST).crop((0, 0, w, h))


@pytest.mark.parametrize("colour", [(255, 255, 255), (0, 0, 0), (37, 180, 90)])
def test_a_solid_border_is_trimmed_back_to_the_picture(colour: tuple[int, int, int]) -> None:
    picture = _textured(300, 200)
    page = Image.new("RGB", (420, 260), colour)
    page.paste(picture, (70, 20))
    out = trimmed(page)
    assert abs(out.width - 300) <= 4 and abs(out.height - 200) <= 4
    assert np.abs(np.asarray(out.resize((300, 200)), np.int16) - np.asarray(picture)).mean() < 40
    assert trimmed(picture) is picture  # nothing smooth to strip: the image itself


def test_a_border_around_a_drawing_on_a_blank_page_goes_with_the_page() -> None:
    page = Image.new("RGB", (300, 240), "white")
    page.paste(_textured(120, 90, seed=2), (100, 60))
    picture = np.asarray(_textured(120, 90, seed=2), np.int16)
    framed = Image.new("RGB", (360, 280), (20, 20, 160))
    framed.paste(page, (30, 20))
    for out in (trimmed(framed), trimmed(page), trimmed(trimmed(framed))):
        # found at 256 px: a pixel or two of the original either way
        assert abs(out.width - 120) <= 2 and abs(out.height - 90) <= 2
        assert np.abs(np.asarray(out.resize((120, 90)), np.int16) - picture).mean() < 40


def test_a_blurred_fill_around_a_sharp_picture_is_trimmed() -> None:
    picture = _textured(200, 100, seed=1, low=80, high=176)  # a blur of full contrast has steps
    back = picture.resize((240, 240)).filter(ImageFilter.GaussianBlur(12))
    back.paste(picture, (20, 70))
    out = trimmed(back)
    assert abs(out.width - 200) <= 6 and abs(out.height - 100) <= 6


def test_a_trim_that_leaves_too_little_keeps_the_whole_image() -> None:
    blank = Image.new("RGB", (120, 80), (9, 9, 9))
    line = Image.new("RGB", (400, 400), "white")
    line.paste(_textured(400, 8), (0, 196))  # a strip of 2% of the height
    tiny, grey_page = Image.new("RGB", (2, 50)), Image.new("L", (60, 40), 128)
    for img in (blank, line, tiny, grey_page):  # every line smooth; too little left; too small
        assert trimmed(img) is img
    framed = Image.new("L", (60, 40), 255)
    framed.paste(_textured(30, 20).convert("L"), (15, 10))
    assert trimmed(framed).mode == "RGB" and trimmed(framed).size == (30, 20)


def test_embed_once_embeds_an_image_listed_twice_once() -> None:
    a, b = Image.new("RGB", (8, 8), "red"), Image.new("RGB", (8, 8), "red")  # equal, not the same
    calls: list[int] = []

    def embed(images: list[Image.Image]) -> np.ndarray:
        calls.append(len(images))
        return np.arange(len(images), dtype=np.float32)[:, None] + 1

    out = embed_once(embed, [a, b, a, a, b])
    assert calls == [2] and out[:, 0].tolist() == [1, 2, 1, 1, 2]
    assert embed_once(embed, []).shape == (0, 1) and calls == [2, 0]


def test_the_paired_view_comes_last_and_only_in_schemes_that_pair() -> None:
    img = Image.new("RGB", (200, 100), (200, 40, 40))
    scheme = VIEWS["crops5-both-greylow"]
    views = scheme.embedded(img)
    assert len(views) == 7 and views[0] is img and views[-1].size == (SIDE, SIDE)
    assert np.array_equal(np.asarray(views[-1]), np.asarray(grey_low_pass(img)))
    assert scheme.query(img) == views[:6] and scheme.paired_id
    assert VIEWS["crops5-both"].embedded(img) == VIEWS["crops5-both"].query(img)


def test_view_scores_take_each_query_work_pair_at_its_best_comparison() -> None:
    e = np.eye(3, dtype=np.float32)
    query_views = np.stack([e[[0, 1]], e[[1, 2]]])  # [2 queries, 2 views, d]: whole, crop
    works = np.array([[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]], np.float32)
    np.testing.assert_allclose(view_scores(query_views, works), [[0.8, 0.0], [0.8, 1.0]])
    work_views = np.stack([e[[2]], e[[0]]])  # one extra view per work, met by the whole query
    np.testing.assert_allclose(
        view_scores(query_views, works, work_views), [[0.8, 1.0], [0.8, 1.0]]
    )
    paired = (e[[2, 0]], e[[0, 2]])  # met only by each other
    np.testing.assert_allclose(
        view_scores(query_views, works, None, paired), [[0.8, 1.0], [1.0, 1.0]]
    )
    square = content_scores(works, paired=paired[1])  # the square: every work as a query
    np.testing.assert_allclose(square, np.maximum(works @ works.T, paired[1] @ paired[1].T))


def test_paired_null_takes_the_better_of_the_views_and_the_pair() -> None:
    images = [drawing(i, PALETTES["alice" if i % 2 else "bob"]) for i in range(6)]
    images.append(grey(images[0]))  # a greyed copy: what the pair is for
    creators = ["a" if i % 2 else "b" for i in range(6)] + ["c"]
    embedder = PixelEmbedder()
    views = embed_views(embedder, images, "crops5-both-greylow")
    assert views.shape == (7, 6, embedder.dim)  # the paired view is not a query view
    paired = embedder.embed([grey_low_pass(img) for img in images])
    crops = views[:, 1:]
    without = content_scores(views[:, 0], views, crops)
    with_pair = content_scores(views[:, 0], views, crops, paired)
    np.testing.assert_allclose(with_pair, np.maximum(without, paired @ paired.T), atol=1e-6)
    assert with_pair[6, 0] > without[6, 0] + 0.1  # the copy meets its source's pair
    nulls = [content_null(s, creators) for s in (without, with_pair)]
    assert nulls[0].shape == nulls[1].shape and np.all(nulls[1] >= nulls[0] - 1e-6)


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


def _measured_with(cal: Calibration, views: str) -> Calibration:
    """The calibration as if its nulls had been measured with the content views `views`."""
    return dataclasses.replace(cal, models=cal.models | {"content_views": views})


def test_pasted_work_scores_higher_with_crop_views(runtime: Runtime, fake_cal: Calibration) -> None:
    _register_gallery(runtime)
    canvas = Image.new("RGB", (128, 128), (235, 235, 235))
    canvas.paste(drawing(102, PALETTES["bob"]), (0, 0))  # bob/2.png covers the top-left 56%
    crops = _measured_with(fake_cal, "crops5")
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
    paired = fake_cal.models | {"content_paired": "fake-pixels-8@grey-lowpass3@224"}
    dataclasses.replace(fake_cal, models=paired).save(path)
    assert load_calibration(pinned, "fake", models | {"content_paired": paired["content_paired"]})
    with pytest.raises(CalibrationMissing, match="content_paired"):  # another low-pass view
        load_calibration(pinned, "fake", models | {"content_paired": "fake-pixels-8@other"})
    crops = {"content_crops": "fake-pixels-8@crops5-both-side0.7"}
    with pytest.raises(CalibrationMissing, match="content_crops"):  # crops it did not record
        load_calibration(pinned, "fake", models | crops)
    dataclasses.replace(fake_cal, models=fake_cal.models | crops).save(path)
    assert load_calibration(pinned, "fake", models | crops)
    with pytest.raises(CalibrationMissing, match="content_crops"):  # crops of another size
        load_calibration(
            pinned, "fake", models | {"content_crops": "fake-pixels-8@crops5-both-side0.6"}
        )
    older = fake_cal.models | {"local": local.MODEL_ID.replace("+share-cov", "+share-grid")}
    dataclasses.replace(fake_cal, models=older).save(path)
    # keypoints scored another way: the message names both, so a new OpenCV is recognisable
    with pytest.raises(CalibrationMissing, match=r"local \(measured \S+share-grid\S+, in use"):
        load_calibration(pinned, "fake", models)
    dataclasses.replace(fake_cal, models=older, local=None).save(path)
    assert load_calibration(pinned, "fake", models).local is None  # one without verification


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
    crops = _measured_with(fake_cal, "crops5-both")
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
    crops = _measured_with(fake_cal, "crops5-both")
    lib = _library(runtime, "crops5")
    assert WORK_CROPS not in lib.spaces
    with pytest.raises(ValueError, match="views"):
        Matcher(lib, crops)


def _paired_gallery(runtime: Runtime, views: str = "crops5-both-greylow") -> Library:
    """The gallery registered through a library indexing the paired view of `views` (the
    test gallery's stored originals cannot be embedded again)."""
    lib = _library(runtime, views)
    _register_gallery(dataclasses.replace(runtime, library=lib))
    return lib


def test_a_greyed_blurred_copy_meets_its_source_through_the_paired_view(
    runtime: Runtime, fake_cal: Calibration
) -> None:
    lib = _paired_gallery(runtime)
    assert len(lib.indexes[WORK_PAIRED]) == len(lib)  # one paired view per work
    copy = grey(drawing(102, PALETTES["bob"])).filter(ImageFilter.GaussianBlur(2))  # bob/2.png
    paired = _measured_with(fake_cal, "crops5-both-greylow")
    crops = _measured_with(fake_cal, "crops5-both")
    opts = runtime.options(3)
    plain = Matcher(lib, crops).match([_query(copy)], opts)[0].content.matches
    both = Matcher(lib, paired).match([_query(copy)], opts)[0].content.matches
    assert both[0].work_id == "bob/2.png"
    plain_score = next((m.score for m in plain if m.work_id == "bob/2.png"), 0.0)
    assert both[0].score > plain_score + 0.05
    lib.remove("bob/2.png")
    assert len(lib.indexes[WORK_PAIRED]) == len(lib)
    after = Matcher(lib, paired).match([_query(copy)], opts)[0].content.matches
    assert all(m.work_id != "bob/2.png" for m in after)


def test_a_bordered_copy_meets_its_source_through_the_trimmed_view(
    runtime: Runtime, fake_cal: Calibration
) -> None:
    lib = _paired_gallery(runtime, "crops5-both-trim")
    source = drawing(102, PALETTES["bob"])  # bob/2.png
    copy = Image.new("RGB", (160, 130), (250, 20, 200))
    copy.paste(source, (40, 10))
    trim = _measured_with(fake_cal, "crops5-both-trim")
    crops = _measured_with(fake_cal, "crops5-both")
    opts = runtime.options(3)
    plain = Matcher(_library(runtime), crops).match([_query(copy)], opts)[0].content.matches
    both = Matcher(lib, trim).match([_query(copy)], opts)[0].content.matches
    assert both[0].work_id == "bob/2.png" and both[0].score > 0.99  # the same picture, trimmed
    assert both[0].score > next((m.score for m in plain if m.work_id == "bob/2.png"), 0.0)


def test_a_paired_view_left_as_it_is_is_embedded_once(
    runtime: Runtime, fake_cal: Calibration, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = _library(runtime, "crops5-both-trim")
    content = lib.embedders["content"]
    sizes: list[int] = []
    embed = content._embed
    monkeypatch.setattr(content, "_embed", lambda imgs: sizes.append(len(imgs)) or embed(imgs))
    picture = _textured(96, 64)  # nothing to trim
    framed = Image.new("RGB", (128, 96), "white")
    framed.paste(picture, (16, 16))
    raw = embed_spaces(lib.spaces, [picture, framed])
    assert sizes == [6 + 7]  # one pass: the untrimmed picture's paired view is the picture
    assert np.array_equal(raw[WORK_PAIRED][0], raw["content"][0])
    assert not np.allclose(raw[WORK_PAIRED][1], raw["content"][1])
    assert raw[WORK_CROPS].shape[:2] == (2, 5)
    sizes.clear()
    Matcher(lib, _measured_with(fake_cal, "crops5-both-trim")).match(
        [_query(picture), _query(framed)], runtime.options(3)
    )
    assert sizes == [6 + 7]


def test_paired_views_are_restored_from_stored_vectors(runtime: Runtime) -> None:
    first = _paired_gallery(runtime)
    space = first.spaces[WORK_PAIRED]
    assert len(dict(first.catalog.vectors(WORK_PAIRED, space.raw_id))) == len(first)
    assert first.model_ids[WORK_PAIRED].endswith("@" + VIEWS["crops5-both-greylow"].paired_id)
    again = _library(runtime, "crops5-both-greylow")  # restored from the catalog's vectors
    assert len(again.indexes[WORK_PAIRED]) == len(again)
    crops_only = _library(runtime, "crops5-both")  # the same crops, stored once for both
    assert crops_only.spaces[WORK_CROPS].raw_id == first.spaces[WORK_CROPS].raw_id


def test_a_calibration_with_a_paired_view_needs_a_library_indexing_it(
    runtime: Runtime, fake_cal: Calibration
) -> None:
    paired = _measured_with(fake_cal, "crops5-both-greylow")
    lib = _library(runtime, "crops5-both")
    assert WORK_PAIRED not in lib.spaces
    with pytest.raises(ValueError, match="views"):
        Matcher(lib, paired)


def test_a_batch_meets_each_querys_own_paired_view(runtime: Runtime, fake_cal: Calibration) -> None:
    lib = _paired_gallery(runtime)
    matcher = Matcher(lib, _measured_with(fake_cal, "crops5-both-greylow"))
    copy = grey(drawing(102, PALETTES["bob"])).filter(ImageFilter.GaussianBlur(2))  # bob/2.png
    batch = [drawing(1, PALETTES["alice"]), copy, grey(drawing(203, PALETTES["carol"]))]
    opts = runtime.options(12)
    together = matcher.match([_query(img) for img in batch], opts)
    alone = [matcher.match([_query(img)], opts)[0] for img in batch]
    for a, b in zip(together, alone, strict=True):
        assert [(m.work_id, m.score) for m in a.content.matches] == [
            (m.work_id, m.score) for m in b.content.matches
        ]
    for img, result in zip(batch, together, strict=True):
        expected = _paired_scores(lib, img)
        assert result.content.matches
        for m in result.content.matches:
            assert m.score == pytest.approx(expected[m.work_id], abs=1e-5)


def _paired_scores(lib: Library, query: Image.Image) -> dict[str, float]:
    """Each gallery work's content score under crops5-both-greylow, computed directly: the
    best of the query's views against the whole work, the whole query against the work's
    crops, and the query's grey low-pass view against the work's."""
    embed = lib.embedders["content"].embed
    views, paired = embed(crops5(query)), embed([grey_low_pass(query)])[0]
    out = {}
    for ci, creator in enumerate(("alice", "bob", "carol")):
        for seed in range(4):
            work = drawing(100 * ci + seed, PALETTES[creator])
            whole_work, crops = embed([work])[0], embed(five_crops(work))
            pair = paired @ embed([grey_low_pass(work)])[0]
            out[f"{creator}/{seed}.png"] = float(
                max((views @ whole_work).max(), (crops @ views[0]).max(), pair)
            )
    return out


def test_the_calibration_of_a_paired_scheme_measures_the_pair() -> None:
    groups = {name: [drawing(20_000 + i, pal) for i in range(5)] for name, pal in PALETTES.items()}
    groups["greys"] = [grey(drawing(20_000 + i, PALETTES["alice"])) for i in range(5)]
    content, style = PixelEmbedder(), HistogramEmbedder()
    crops = fit_calibration("fake", content, style, groups, content_views="crops5-both")
    paired = fit_calibration("fake", content, style, groups, content_views="crops5-both-greylow")
    assert "content_paired" not in crops.models
    assert crops.models["content_crops"] == f"fake-pixels-8@crops5-both-side{CROP_SIDE:g}"
    assert paired.models["content_crops"] == crops.models["content_crops"]  # the same crops
    named = VIEWS["crops5-both-greylow"].paired_id
    assert paired.models["content_paired"] == f"fake-pixels-8@{named}"  # as the library names it
    assert len(paired.content.nulls) == len(crops.content.nulls) == 1  # one part, as shipped
    with_pair, without = paired.content.nulls[0], crops.content.nulls[0]
    assert with_pair.n == without.n
    rates = (0.5, 0.2, 0.1, 0.05)
    assert all(with_pair.threshold(r) >= without.threshold(r) - 1e-6 for r in rates)
    assert any(with_pair.threshold(r) > without.threshold(r) + 1e-4 for r in rates)


def test_a_scheme_names_the_views_it_stores() -> None:
    with pytest.raises(ValueError, match="work_id"):
        ViewScheme(crops5, five_crops)
    with pytest.raises(ValueError, match="paired_id"):
        ViewScheme(whole, nothing, paired=grey)
