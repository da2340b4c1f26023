"""The Milvus backend (milvus-lite, embedded) behind the same VectorIndex seam: the same
neighbours as the brute-force reference, exact Hamming for PDQ hashes, several vectors per
work, changes visible to the next search, and a library that registers, matches, removes and
reopens on it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus", reason="pip install pymilvus milvus-lite (the dev extra)")

from indexer.milvus import MilvusIndex, milvus_index
from indexer.snapshots import load_index
from indexer.vectors import BruteForceIndex
from models.embedder import l2_normalise
from service.calibration import Calibration
from service.runtime import build_runtime
from service.settings import Settings
from tests.fakes import PALETTES, HistogramEmbedder, PixelEmbedder, drawing


@pytest.mark.parametrize("binary", [False, True])
def test_search_equals_brute_force_after_adds_and_removes(tmp_path: Path, binary: bool) -> None:
    rng = np.random.default_rng(1)
    n, d = 200, 256 if binary else 32
    data = (
        rng.integers(0, 256, (n, d // 8), dtype=np.uint8)
        if binary
        else l2_normalise(rng.normal(size=(n, d)))
    )
    ids = rng.permutation(10_000)[:n].astype(np.int64)
    fast = MilvusIndex(str(tmp_path / "m.db"), f"t_{int(binary)}", d, binary)
    ref = BruteForceIndex(d, binary=binary)
    for index in (fast, ref):
        index.add(ids, data)
        index.remove(ids[:40])
    queries = data[30:50]
    fs, fi = fast.search(queries, 8)
    rs, ri = ref.search(queries, 8)
    np.testing.assert_allclose(fs, rs, rtol=1e-4, atol=1e-4)  # Hamming exact, cosine too
    for row in range(len(queries)):
        assert set(fi[row][fs[row] != fs[row][-1]]) == set(ri[row][rs[row] != rs[row][-1]])
    assert not set(fi.ravel()) & set(ids[:40].tolist())
    assert sorted(fast.ids()) == sorted(ref.ids())


def test_a_work_holds_several_vectors_and_re_adding_replaces_them(tmp_path: Path) -> None:
    index = MilvusIndex(str(tmp_path / "m.db"), "crops", 8)
    a, b, c = l2_normalise(np.random.default_rng(3).normal(size=(3, 8)))
    index.add(np.array([7, 7]), np.stack([a, b]))
    assert sorted(index.ids().tolist()) == [7, 7]
    index.add(np.array([7]), c[None])  # a new registration of work 7 replaces both
    scores, ids = index.search(np.stack([a, c]), 2)
    assert index.ids().tolist() == [7] and ids[1, 0] == 7
    assert scores[1, 0] == pytest.approx(1.0, abs=1e-5) and ids[0, 1] == -1


def test_a_snapshot_points_at_the_collection(tmp_path: Path) -> None:
    new = milvus_index(str(tmp_path / "m.db"), "snap")
    index = new("content", 8, False)
    index.add(np.array([1, 2]), l2_normalise(np.eye(8, dtype=np.float32)[:2]))
    index.save(tmp_path / "content.faiss")
    again = load_index(tmp_path / "content.faiss", binary=False)
    assert isinstance(again, MilvusIndex) and sorted(again.ids().tolist()) == [1, 2]
    assert len(new("content", 8, False)) == 0  # a fresh index for a new model starts empty


def test_library_on_milvus_registers_matches_removes_and_reopens(
    tmp_path: Path, fake_cal: Calibration
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data", vector_backend="milvus", _env_file=None
    )

    def runtime():  # type: ignore[no-untyped-def]
        return build_runtime(settings, PixelEmbedder(), HistogramEmbedder(), fake_cal)

    import hashlib

    from indexer.spaces import Submission

    lib = runtime().library
    items = []
    for creator, seed in (("alice", 1), ("alice", 2), ("bob", 3)):
        img = drawing(seed, PALETTES[creator])
        buf = io.BytesIO()
        img.save(buf, "PNG")
        data = buf.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        items.append(Submission(creator, f"{creator}/{seed}.png", img, data, sha, "test"))
    lib.register(items)
    query = lib.embedders["content"].embed([drawing(2, PALETTES["alice"])])
    assert lib.search("content", query, 1)[0][0].work.work_id == "alice/2.png"
    lib.remove("alice/2.png")
    assert "alice/2.png" not in [h.work.work_id for h in lib.search("content", query, 3)[0]]
    lib.save()
    reopened = runtime().library
    assert len(reopened) == 2
    assert sorted(set(reopened.indexes["pdq"].ids().tolist())) == sorted(
        w.pk for w in reopened.catalog.active().values()
    )
