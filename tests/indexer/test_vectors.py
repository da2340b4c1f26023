"""FAISS indexes against the brute-force reference: same neighbours, removals, save/load."""

from pathlib import Path

import numpy as np
import pytest

from indexer.vectors import BruteForceIndex, FaissBinaryIndex, FaissIndex, VectorIndex
from models.embedder import l2_normalise


def _float_data(n: int, d: int, seed: int = 0) -> np.ndarray:
    return l2_normalise(np.random.default_rng(seed).normal(size=(n, d)))


def _pair(binary: bool, d: int) -> tuple[VectorIndex, BruteForceIndex]:
    fast = FaissBinaryIndex(d) if binary else FaissIndex(d)
    return fast, BruteForceIndex(d, binary=binary)


@pytest.mark.parametrize("binary", [False, True])
def test_search_equals_brute_force_after_adds_and_removes(binary: bool) -> None:
    rng = np.random.default_rng(1)
    n, d = 300, 256 if binary else 48
    data = rng.integers(0, 256, (n, d // 8), dtype=np.uint8) if binary else _float_data(n, d)
    ids = rng.permutation(10_000)[:n].astype(np.int64)
    fast, ref = _pair(binary, d)
    for index in (fast, ref):
        index.add(ids, data)
        index.remove(ids[:50])
    queries = data[40:60]
    fs, fi = fast.search(queries, 10)
    rs, ri = ref.search(queries, 10)
    np.testing.assert_allclose(fs, rs, rtol=1e-5, atol=1e-5)
    # ties may order differently; the sets of ids at equal scores must agree
    for row in range(len(queries)):
        assert set(fi[row][fs[row] != fs[row][-1]]) == set(ri[row][rs[row] != rs[row][-1]])
    assert not set(fi[:10].ravel()) & set(ids[:50])  # removed ones never come back
    assert sorted(fast.ids()) == sorted(ref.ids()) and len(fast) == n - 50


def test_re_adding_an_id_replaces_its_vector() -> None:
    index = FaissIndex(8)
    a, b = _float_data(2, 8, seed=3)
    index.add(np.array([7]), a[None])
    index.add(np.array([7]), b[None])
    scores, ids = index.search(b[None], 1)
    assert len(index) == 1 and ids[0, 0] == 7 and scores[0, 0] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("binary", [False, True])
def test_save_and_load_round_trip(tmp_path: Path, binary: bool) -> None:
    d = 256 if binary else 16
    data = (
        np.random.default_rng(2).integers(0, 256, (20, 32), dtype=np.uint8)
        if binary
        else _float_data(20, d)
    )
    index: VectorIndex = FaissBinaryIndex(d) if binary else FaissIndex(d)
    index.add(np.arange(100, 120), data)
    index.save(tmp_path / "x.faiss")
    loaded = (FaissBinaryIndex if binary else FaissIndex).load(tmp_path / "x.faiss")
    assert sorted(loaded.ids()) == list(range(100, 120))
    assert loaded.search(data[:3], 1)[1][:, 0].tolist() == [100, 101, 102]


def _clustered(n: int, d: int, seed: int) -> np.ndarray:
    """Unit vectors around 200 centres: the structure real embeddings have."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, d)).astype(np.float32)
    x = centres[rng.integers(0, 200, n)] + 0.7 * rng.normal(size=(n, d)).astype(np.float32)
    return l2_normalise(x)


def test_ivf_recall_against_exact_search_and_exact_removal(tmp_path: Path) -> None:
    from indexer.vectors import FaissIvfIndex

    x, d = _clustered(20_000, 64, 0), 64
    ids = np.arange(len(x), dtype=np.int64)
    ivf = FaissIvfIndex.trained(x[::4], nlist=128, nprobe=16)
    ivf.add(ids, x)
    exact = BruteForceIndex(d)
    exact.add(ids, x)
    queries = l2_normalise(x[:200] + 0.2 * _float_data(200, d, 1))
    truth, got = exact.search(queries, 10)[1], ivf.search(queries, 10)[1]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got, strict=True)])
    assert recall >= 0.95
    gone = ids[:50]
    ivf.remove(gone)
    assert len(ivf) == len(x) - 50 and not np.isin(gone, ivf.ids()).any()
    assert not np.isin(ivf.search(x[:50], 5)[1], gone).any()  # removal is exact at once
    ivf.save(tmp_path / "ivf.faiss")
    loaded = FaissIvfIndex.load(tmp_path / "ivf.faiss")
    assert np.array_equal(loaded.search(queries, 10)[1], ivf.search(queries, 10)[1])


def _filled(kind: str, n: int) -> tuple[VectorIndex, np.ndarray]:
    """An index of each kind holding ids 0..n-1, and their vectors."""
    from indexer.vectors import FaissIvfIndex

    binary = kind in ("binary", "brute-binary")
    data = np.random.default_rng(4).integers(0, 256, (n, 32), np.uint8) if binary else None
    data = _float_data(n, 16) if data is None else data
    index: VectorIndex = {
        "flat": lambda: FaissIndex(16),
        "binary": lambda: FaissBinaryIndex(256),
        "ivf": lambda: FaissIvfIndex.trained(data, nlist=4, nprobe=4),
        "brute": lambda: BruteForceIndex(16),
        "brute-binary": lambda: BruteForceIndex(256, binary=True),
    }[kind]()
    index.add(np.arange(n), data)
    return index, data


@pytest.mark.parametrize("kind", ["flat", "binary", "ivf", "brute", "brute-binary"])
def test_a_frozen_copy_keeps_what_it_was_taken_with(kind: str) -> None:
    """What a snapshot writes off the lock: changes to either side never reach the other."""
    index, data = _filled(kind, 200)
    copy = index.frozen()
    index.remove(np.arange(10))
    index.add(np.array([999]), data[:1])
    copy.add(np.array([777]), data[150:151])
    assert sorted(copy.ids().tolist()) == [*range(200), 777]
    assert sorted(index.ids().tolist()) == [*range(10, 200), 999]
    assert copy.search(data[:3], 1)[1][:, 0].tolist() == [0, 1, 2]
    assert type(copy) is type(index) and copy.dim == index.dim
    if kind == "ivf":
        assert copy.nprobe == index.nprobe == 4  # type: ignore[attr-defined]
