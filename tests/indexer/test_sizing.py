"""Sizing: the kind an index's size calls for (with hysteresis), and a rebuild from a copy that
`catch_up` brings level with the live index changed meanwhile, in both directions."""

import numpy as np

from indexer.sizing import build_ivf, catch_up, needs_refit, rebuilt, recall_at_10
from indexer.vectors import FaissIndex, FaissIvfIndex, VectorIndex
from models.embedder import l2_normalise

DIM = 16


def _vectors(n: int, seed: int) -> np.ndarray:
    return l2_normalise(np.random.default_rng(seed).normal(size=(n, DIM))).astype(np.float32)


def _flat(ids: np.ndarray, seed: int = 0) -> FaissIndex:
    index = FaissIndex(DIM)
    index.add(ids, _vectors(len(ids), seed))
    return index


def _multiset(index: VectorIndex) -> list[int]:
    return sorted(index.ids().tolist())


def test_flat_becomes_an_ivf_at_the_threshold_and_flat_again_below_half() -> None:
    assert not needs_refit(_flat(np.arange(99)), 100)
    assert needs_refit(_flat(np.arange(100)), 100)
    ivf = rebuilt(*_flat(np.arange(100)).items(), True)
    assert isinstance(ivf, FaissIvfIndex) and not needs_refit(ivf, 100)
    ivf.remove(np.arange(51))  # 49 left: below half
    assert needs_refit(ivf, 100)
    flat = rebuilt(*ivf.items(), False)
    assert isinstance(flat, FaissIndex) and _multiset(flat) == list(range(51, 100))


def test_catch_up_applies_what_changed_during_the_build() -> None:
    ids = np.repeat(np.arange(100, dtype=np.int64), 3)  # three vectors per work
    live = _flat(ids)
    copied, vectors = live.items()
    new = rebuilt(copied, vectors, True)
    added = _vectors(4, 9)
    live.add(np.array([200, 200, 201, 201]), added)  # registered during the build
    live.remove(np.array([1, 5, 201]))  # removed: two copied works and a new one
    catch_up(new, live, copied)
    assert _multiset(new) == _multiset(live)
    assert new.search(added[:1], 1)[1][0, 0] == 200
    assert not np.isin(new.search(vectors[:30], 10)[1], [1, 5]).any()


def test_catch_up_on_the_way_back_to_flat() -> None:
    ivf = rebuilt(*_flat(np.arange(300)).items(), True)
    assert isinstance(ivf, FaissIvfIndex)
    ivf.remove(np.arange(200))
    copied, vectors = ivf.items()
    flat = rebuilt(copied, vectors, False)
    ivf.remove(np.array([250]))
    fresh = _vectors(2, 7)
    ivf.add(np.array([300, 300]), fresh)
    catch_up(flat, ivf, copied)
    assert _multiset(flat) == _multiset(ivf)
    assert flat.search(fresh[1:], 1)[1][0, 0] == 300


def test_an_ivf_over_several_vectors_per_work_is_tuned_by_works_not_rows() -> None:
    """Five close vectors per work (its crops) fill the exact top 10 with two works: tuning
    must count those works, or it never reaches RECALL and scans every list."""
    rng = np.random.default_rng(1)
    works, per = 600, 5
    base = rng.normal(size=(works, DIM))
    noise = 0.05 * rng.normal(size=(works * per, DIM))
    vectors = l2_normalise(np.repeat(base, per, axis=0) + noise)
    ivf = build_ivf(np.repeat(np.arange(works), per).astype(np.int64), vectors.astype(np.float32))
    assert ivf.nprobe < ivf.nlist


def test_recall_counts_each_work_once() -> None:
    truth = np.array([[7, 7, 7, 3, 3, -1, -1, -1, -1, -1]])
    assert recall_at_10(truth, np.array([[3, 7, 9, 9, 9, 9, 9, 9, 9, 9]])) == 1.0
    assert recall_at_10(truth, np.array([[3, 3, 3, 3, 3, 3, 3, 3, 3, 3]])) == 0.5


def test_a_tiny_library_can_still_be_built_as_an_ivf() -> None:
    """STYLETRACE_IVF_FROM_VECTORS may be set very low: k-means needs no more centroids than
    vectors."""
    for n in (1, 8):
        ivf = rebuilt(*_flat(np.arange(n)).items(), True)
        assert isinstance(ivf, FaissIvfIndex) and len(ivf) == n
        assert ivf.search(_vectors(1, 0), 1)[1][0][0] == 0
