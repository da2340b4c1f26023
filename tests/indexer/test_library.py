"""Library: registration reaches every index, removal is immediate, and start-up reconciles
a missing, stale or corrupt snapshot with the catalog."""

import io
import shutil

import numpy as np
import pytest
from PIL import Image
from sqlalchemy.orm import Session

from indexer import library as library_module
from indexer.library import LOCAL, WORK_CROPS, Library
from indexer.schema import VectorRow
from indexer.spaces import Submission
from models import local
from service.calibration import Calibration
from service.runtime import Runtime, build_runtime
from service.settings import Settings
from tests.fakes import PALETTES, HistogramEmbedder, PixelEmbedder, drawing


def _submission(creator: str, seed: int) -> Submission:
    img = drawing(seed, PALETTES[creator])
    buf = io.BytesIO()
    img.save(buf, "PNG")
    data = buf.getvalue()
    import hashlib

    return Submission(
        creator, f"{creator}/{seed}.png", img, data, hashlib.sha256(data).hexdigest(), "test"
    )


def _reopen(settings: Settings, cal: Calibration) -> Library:
    return build_runtime(settings, PixelEmbedder(), HistogramEmbedder(), cal).library


def _all_ids(lib: Library) -> dict[str, list[int]]:
    """Distinct work ids per index (a space of work views holds several vectors per work)."""
    return {space: sorted(set(index.ids().tolist())) for space, index in lib.indexes.items()}


def test_register_and_remove_are_visible_at_once(runtime: Runtime) -> None:
    lib = runtime.library
    out = lib.register([_submission("alice", 1), _submission("bob", 2)])
    assert [o.created for o in out] == [True, True]
    q = lib.embedders["content"].embed([drawing(1, PALETTES["alice"])])
    assert lib.search("content", q, 1)[0][0].work == out[0].work
    lib.remove("alice/1.png")
    assert [h.work.work_id for h in lib.search("content", q, 5)[0]] == ["bob/2.png"]
    assert _all_ids(lib) == {s: [out[1].work.pk] for s in lib.indexes}
    assert {"content", "style", "pdq"} <= set(lib.indexes)


def test_an_image_the_content_model_calls_noise_is_refused_alone(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seam: a content model with a measured `noise_cosine` refuses what it cannot tell
    from random noise of the same size (the real model's figures: tests/e2e); the rest of the
    batch registers. Without one (fakes, unmeasured models) nothing is checked."""
    import hashlib

    from models.errors import FeaturelessImage

    lib = runtime.library
    size = (64, 48)
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 64, 3), np.uint8))
    data = noise.tobytes()
    probe_like = Submission(
        "eve", "eve/noise.png", noise, data, hashlib.sha256(data).hexdigest(), "t"
    )
    assert noise.size == size
    monkeypatch.setattr(lib.embedders["content"], "noise_cosine", 0.99)
    out = lib.register([_submission("alice", 1), probe_like, _submission("bob", 2)])
    assert isinstance(out[1], FeaturelessImage) and "cosine 1.00" in str(out[1])
    assert [o.created for o in (out[0], out[2])] == [True, True]  # type: ignore[union-attr]
    assert lib.catalog.works("eve") == []
    monkeypatch.setattr(lib.embedders["content"], "noise_cosine", None)
    assert lib.register([probe_like])[0].created  # type: ignore[union-attr]


def test_ownership_conflicts_are_found_within_a_batch_and_against_the_index(
    runtime: Runtime,
) -> None:
    lib = runtime.library
    first = _submission("alice", 1)
    mine_again = Submission("alice", "alice/again.png", *_parts(first))
    theirs = Submission("bob", "bob/same.png", *_parts(first))
    out = lib.register([first, mine_again, theirs, _submission("bob", 2)])
    assert [o.created for o in out] == [True, False, True, True]  # alice's own copy: unchanged
    warnings = [o.work.meta.get("warnings", []) for o in out]
    assert warnings[0] == [] and warnings[3] == []
    assert warnings[2] == [
        "ownership conflict: the same bytes already registered by creator 'alice' as 'alice/1.png'"
    ]  # from the same batch
    later = lib.register([Submission("carol", "carol/x.png", *_parts(first))])[0]
    assert len(later.work.meta["warnings"]) == 2  # alice's and bob's, from the index


def _parts(item: Submission) -> tuple[Image.Image, bytes, str, str]:
    return item.image, item.data, item.sha256, item.source


def test_start_up_rebuilds_without_snapshot(
    settings: Settings, runtime: Runtime, fake_cal: Calibration
) -> None:
    runtime.library.register([_submission("alice", i) for i in range(4)])
    lib = _reopen(settings, fake_cal)  # no snapshot saved: everything comes from the catalog
    assert len(lib) == 4 and all(len(ids) == 4 for ids in _all_ids(lib).values())


def test_start_up_restores_from_stored_vectors_in_batches_without_re_embedding(
    settings: Settings, runtime: Runtime, fake_cal: Calibration, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.library.register([_submission("alice", i) for i in range(5)])
    monkeypatch.setattr(library_module, "RESTORE_BATCH", 2)  # 5 works: three reads per space

    def no_re_embedding(_: Library, space: str, pks: list[int]) -> dict[int, np.ndarray]:
        assert not pks, f"{space}: stored vectors of {pks} were not read"
        return {}

    monkeypatch.setattr(Library, "_reembed", no_re_embedding)
    lib = _reopen(settings, fake_cal)
    assert len(lib) == 5 and all(len(ids) == 5 for ids in _all_ids(lib).values())


def test_start_up_repairs_a_stale_snapshot(
    settings: Settings, runtime: Runtime, fake_cal: Calibration
) -> None:
    lib = runtime.library
    lib.register([_submission("alice", i) for i in range(3)])
    lib.save()
    lib.register([_submission("bob", 10)])  # acknowledged after the snapshot
    lib.remove("alice/0.png")  # ditto
    again = _reopen(settings, fake_cal)
    assert _all_ids(again) == _all_ids(lib)


def test_corrupt_snapshot_is_rebuilt_from_the_catalog(
    settings: Settings, runtime: Runtime, fake_cal: Calibration
) -> None:
    lib = runtime.library
    lib.register([_submission("carol", i) for i in range(3)])
    folder = lib.save()
    (folder / "content.faiss").write_bytes(b"garbage")
    again = _reopen(settings, fake_cal)
    assert _all_ids(again) == _all_ids(lib)
    shutil.rmtree(folder)
    assert _all_ids(_reopen(settings, fake_cal)) == _all_ids(lib)


def test_model_change_re_embeds_from_stored_originals(
    settings: Settings, runtime: Runtime, fake_cal: Calibration
) -> None:
    runtime.library.register([_submission("dave", i) for i in range(2)])

    class OtherPixels(PixelEmbedder):
        @property
        def model_id(self) -> str:
            return "fake-pixels-other"

    lib = Library(settings.data_dir, runtime.library.catalog, OtherPixels(), HistogramEmbedder())
    lib.open()
    assert len(lib.indexes["content"]) == 2
    stored = list(lib.catalog.vectors("content", "fake-pixels-other"))
    assert len(stored) == 2
    work = lib.catalog.active()[stored[0][0]]
    img = Image.open(io.BytesIO(lib.blobs.get(work.sha256)))
    assert img.size == (96, 96)


def test_keypoints_are_stored_and_extracted_again_when_missing(runtime: Runtime) -> None:
    lib = runtime.library
    works = [r.work for r in lib.register([_submission("alice", 1), _submission("bob", 2)])]
    key = (LOCAL, local.FEATURES_ID)
    stored = lib.catalog.vectors_of([w.pk for w in works], *key)
    assert set(stored) == {w.pk for w in works}
    first = lib.keypoints(works)
    with Session(lib.catalog.engine) as s, s.begin():  # as if registered before keypoints
        s.query(VectorRow).filter(VectorRow.space == LOCAL).delete()
    assert lib.catalog.vectors_of([w.pk for w in works], *key) == {}
    again = lib.keypoints(works)
    assert set(lib.catalog.vectors_of([w.pk for w in works], *key)) == {w.pk for w in works}
    for w in works:
        assert again[w.pk].to_bytes() == first[w.pk].to_bytes()


def test_a_large_space_is_searched_through_an_ivf(
    settings: Settings, fake_cal: Calibration
) -> None:
    """Past `ivf_from` vectors a space becomes an IVF on save; registrations and removals
    stay visible at once, and the IVF comes back from the snapshot."""
    from indexer.vectors import FaissIndex, FaissIvfIndex

    settings.ivf_from_vectors = 100
    lib = _reopen(settings, fake_cal)
    lib.register([_submission("alice", i) for i in range(40)])
    lib.save()
    assert isinstance(lib.indexes[WORK_CROPS], FaissIvfIndex)  # 40 works x 5 crops
    assert isinstance(lib.indexes["content"], FaissIndex)  # 40 vectors: still exact

    def crop_of(image: Image.Image) -> np.ndarray:  # a stored crop vector of the work
        views = lib.spaces[WORK_CROPS].views
        assert views is not None
        return lib.embedders["content"].embed(views(image)[:1])

    query = crop_of(drawing(7, PALETTES["alice"]))
    assert lib.search(WORK_CROPS, query, 1)[0][0].work.work_id == "alice/7.png"
    new = lib.register([_submission("bob", 500)])[0].work
    q_new = crop_of(drawing(500, PALETTES["bob"]))
    assert lib.search(WORK_CROPS, q_new, 1)[0][0].work == new
    lib.remove("alice/7.png")
    assert "alice/7.png" not in [h.work.work_id for h in lib.search(WORK_CROPS, query, 10)[0]]
    lib.save()
    again = _reopen(settings, fake_cal)
    assert isinstance(again.indexes[WORK_CROPS], FaissIvfIndex)
    assert again.search(WORK_CROPS, q_new, 1)[0][0].work.work_id == "bob/500.png"
    active = sorted(w.pk for w in again.catalog.active().values())
    assert _all_ids(again)[WORK_CROPS] == active
