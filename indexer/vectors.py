"""The `VectorIndex` seam: add, remove, search, freeze, save, load over int64 ids. FAISS
implementations (exact inner product for unit vectors, Hamming for packed binary hashes, and an
IVF for large catalogs) and a brute-force numpy reference that tests compare them against."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

Ids = NDArray[np.int64]
SearchResult = tuple[NDArray[np.float32], Ids]  # scores [n, k], ids [n, k] (-1 where none)


class VectorIndex(ABC):
    """Searchable set of vectors keyed by int ids. For float indexes higher scores are closer;
    for binary ones the score is the Hamming distance (lower is closer)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    @abstractmethod
    def add(self, ids: Ids, vectors: NDArray[Any]) -> None: ...

    @abstractmethod
    def remove(self, ids: Ids) -> None: ...

    @abstractmethod
    def search(self, queries: NDArray[Any], k: int) -> SearchResult: ...

    @abstractmethod
    def ids(self) -> Ids:
        """All ids currently in the index."""

    @abstractmethod
    def frozen(self) -> VectorIndex:
        """The contents as of now, unchanged by later adds and removes, for a snapshot to save
        off the library's lock: an index held in memory copies itself, briefly doubling its
        memory."""

    @abstractmethod
    def save(self, path: Path) -> None: ...

    def __len__(self) -> int:
        return len(self.ids())


class _FaissIdMap(VectorIndex):
    """Shared parts of the FAISS indexes that take explicit, removable ids (an IDMap2 around an
    exact index unless a subclass says otherwise)."""

    dtype: type[np.generic] = np.float32
    binary = False

    def __init__(self, dim: int, index: Any) -> None:
        super().__init__(dim)
        self._index = index

    def add(self, ids: Ids, vectors: NDArray[Any]) -> None:
        self.remove(ids)
        self._index.add_with_ids(np.ascontiguousarray(vectors, self.dtype), _ids(ids))

    def remove(self, ids: Ids) -> None:
        import faiss

        if len(ids):
            self._index.remove_ids(faiss.IDSelectorBatch(_ids(ids)))

    def search(self, queries: NDArray[Any], k: int) -> SearchResult:
        k = max(1, min(k, self._index.ntotal))
        scores, ids = self._index.search(np.ascontiguousarray(queries, self.dtype), k)
        return scores.astype(np.float32), ids.astype(np.int64)

    def ids(self) -> Ids:
        import faiss

        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def frozen(self) -> Self:
        import faiss

        # a clone copies the vectors once: 0.3 s for 200k x 512 floats, against 1.5 s to
        # serialise them (into a growing buffer, then copied out), all under the library's lock
        return type(self)(self.dim, faiss.clone_index(self._index))

    def save(self, path: Path) -> None:
        import faiss

        write = faiss.write_index_binary if self.binary else faiss.write_index
        write(self._index, str(path))


class FaissIndex(_FaissIdMap):
    """Exact inner-product search (cosine on unit vectors)."""

    def __init__(self, dim: int, index: Any = None) -> None:
        import faiss

        super().__init__(
            dim, index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        )

    @classmethod
    def load(cls, path: Path) -> FaissIndex:
        import faiss

        index = faiss.read_index(str(path))
        return cls(index.d, index)

    def items(self, among: Ids | None = None) -> tuple[Ids, NDArray[np.float32]]:
        """Every (id, vector) stored, or those whose id is `among`, as two arrays."""
        import faiss

        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        if among is None:
            return ids, self._index.index.reconstruct_n(0, self._index.ntotal)
        rows = np.flatnonzero(np.isin(ids, among))  # the id map is row-aligned with the vectors
        return ids[rows], self._index.index.reconstruct_batch(rows)


class FaissBinaryIndex(_FaissIdMap):
    """Exact Hamming search over packed binary codes (PDQ: 256 bits = 32 bytes); the score
    is the distance."""

    dtype = np.uint8
    binary = True

    def __init__(self, bits: int, index: Any = None) -> None:
        import faiss

        super().__init__(
            bits,
            index if index is not None else faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(bits)),
        )

    @classmethod
    def load(cls, path: Path) -> FaissBinaryIndex:
        import faiss

        index = faiss.read_index_binary(str(path))
        return cls(index.d, index)

    def frozen(self) -> Self:
        import faiss

        # FAISS cannot clone a binary id map; serialised, PDQ's 32 bytes a work stay small
        index = faiss.deserialize_index_binary(faiss.serialize_index_binary(self._index))
        return type(self)(self.dim, index)


class BruteForceIndex(VectorIndex):
    """Reference implementation in numpy: inner product, or Hamming when `binary`."""

    def __init__(self, dim: int, binary: bool = False) -> None:
        super().__init__(dim)
        self.binary = binary
        self._vectors: dict[int, NDArray[Any]] = {}

    def add(self, ids: Ids, vectors: NDArray[Any]) -> None:
        for i, v in zip(ids.tolist(), vectors, strict=True):
            self._vectors[int(i)] = np.array(v)

    def remove(self, ids: Ids) -> None:
        for i in ids.tolist():
            self._vectors.pop(int(i), None)

    def search(self, queries: NDArray[Any], k: int) -> SearchResult:
        keys = np.array(sorted(self._vectors), dtype=np.int64)
        k = max(1, min(k, len(keys)))
        if not len(keys):
            return np.full((len(queries), k), -1, np.float32), np.full((len(queries), k), -1)
        matrix = np.stack([self._vectors[int(i)] for i in keys])
        if self.binary:
            xor = np.bitwise_xor(queries[:, None, :], matrix[None, :, :])
            scores = np.unpackbits(xor, axis=2).sum(axis=2).astype(np.float32)
            order = np.argsort(scores, axis=1, kind="stable")[:, :k]
        else:
            scores = (queries @ matrix.T).astype(np.float32)
            order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, order, axis=1), keys[order]

    def ids(self) -> Ids:
        return np.array(sorted(self._vectors), dtype=np.int64)

    def frozen(self) -> BruteForceIndex:
        copy = BruteForceIndex(self.dim, self.binary)
        copy._vectors = dict(self._vectors)  # stored arrays are replaced, never changed in place
        return copy

    def save(self, path: Path) -> None:
        keys = self.ids()
        np.savez(path, ids=keys, vectors=np.stack([self._vectors[int(i)] for i in keys]))


def load_float_index(path: Path) -> VectorIndex:
    """A saved float index of either kind."""
    import faiss

    index = faiss.read_index(str(path))
    if faiss.try_extract_index_ivf(index) is not None:
        return FaissIvfIndex(index.d, index)
    return FaissIndex(index.d, index)


def _ids(ids: Ids) -> Ids:
    return np.ascontiguousarray(ids, dtype=np.int64)


class FaissIvfIndex(_FaissIdMap):
    """Approximate inner-product search for large catalogs: an inverted file (IVF-Flat) whose
    coarse centroids are trained on the vectors at hand; `nprobe` lists are scanned per
    query. Ids are the IVF's own, so removal is exact and immediate."""

    @classmethod
    def trained(cls, sample: NDArray[np.float32], nlist: int, nprobe: int) -> FaissIvfIndex:
        """An empty index with `nlist` centroids trained on `sample` [m, dim]."""
        import faiss

        dim = sample.shape[1]
        index = faiss.index_factory(dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        index.train(np.ascontiguousarray(sample, np.float32))
        ivf = cls(dim, index)
        ivf.set_nprobe(nprobe)
        return ivf

    @classmethod
    def load(cls, path: Path) -> FaissIvfIndex:
        import faiss

        index = faiss.read_index(str(path))
        return cls(index.d, index)

    def ids(self) -> Ids:
        import faiss

        lists = self._index.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
            for i in range(self._index.nlist)
            if lists.list_size(i)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    @property
    def nlist(self) -> int:
        return int(self._index.nlist)

    @property
    def nprobe(self) -> int:
        import faiss

        return int(faiss.extract_index_ivf(self._index).nprobe)

    def set_nprobe(self, nprobe: int) -> None:
        """How many lists each query scans (saved with the index)."""
        import faiss

        faiss.ParameterSpace().set_index_parameter(self._index, "nprobe", nprobe)

    def items(self, among: Ids | None = None) -> tuple[Ids, NDArray[np.float32]]:
        """Every (id, vector) stored, or those whose id is `among`, read from the inverted
        lists."""
        import faiss

        lists, ids, vectors = self._index.invlists, [], []
        for i in range(self.nlist):
            size = lists.list_size(i)
            if size:
                ids.append(faiss.rev_swig_ptr(lists.get_ids(i), size).copy())
                codes = faiss.rev_swig_ptr(lists.get_codes(i), size * self.dim * 4).copy()
                vectors.append(codes.view(np.float32).reshape(size, self.dim))
        if not ids:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        all_ids, all_vectors = np.concatenate(ids).astype(np.int64), np.concatenate(vectors)
        if among is None:
            return all_ids, all_vectors
        keep = np.isin(all_ids, among)
        return all_ids[keep], all_vectors[keep]

    def __len__(self) -> int:
        return int(self._index.ntotal)
