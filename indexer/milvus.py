"""The `VectorIndex` seam backed by Milvus (pymilvus' MilvusClient), for deployments that
outgrow one machine's FAISS: a Milvus server's URI, or a local milvus-lite file for
development and tests. Each index is one collection of rows (an automatic primary key, the
work id, the vector), so a work may hold several vectors, as in FAISS. Binary PDQ hashes are
stored as +1/-1 float vectors, because milvus-lite has no binary vectors: for b bits,
Hamming distance = (b - inner product) / 2, exactly. Milvus persists the rows itself; a
snapshot keeps a pointer (URI and collection) that `load_index` follows."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from indexer.vectors import Ids, SearchResult, VectorIndex

POINTER_KIND = "milvus"
PAGE = 16_384  # rows per query page when listing ids
DELETE_BATCH = 1_000  # ids per delete expression

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def client(uri: str) -> Any:
    """One MilvusClient per URI per process (a milvus-lite file admits one client)."""
    from pymilvus import MilvusClient

    with _clients_lock:
        if uri not in _clients:
            _clients[uri] = MilvusClient(uri)
        return _clients[uri]


class MilvusIndex(VectorIndex):
    """Exact inner-product search (FLAT) in a Milvus collection; Hamming when `binary`."""

    def __init__(self, uri: str, collection: str, dim: int, binary: bool = False) -> None:
        super().__init__(dim)
        self.uri, self.collection, self.binary = uri, collection, binary
        self._client = client(uri)
        if not self._client.has_collection(collection):
            self._create()

    def _create(self) -> None:
        from pymilvus import DataType

        schema = self._client.create_schema(auto_id=True)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("work", DataType.INT64)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=self.dim)
        params = self._client.prepare_index_params()
        params.add_index(field_name="vec", index_type="FLAT", metric_type="IP")
        self._client.create_collection(
            self.collection, schema=schema, index_params=params, consistency_level="Strong"
        )

    def _floats(self, vectors: NDArray[Any]) -> NDArray[np.float32]:
        """Vectors as Milvus stores them: packed bits become +1/-1 floats."""
        if not self.binary:
            return np.asarray(vectors, np.float32)
        bits = np.unpackbits(np.asarray(vectors, np.uint8), axis=1)[:, : self.dim]
        return (bits.astype(np.float32) * 2) - 1

    def add(self, ids: Ids, vectors: NDArray[Any]) -> None:
        self.remove(np.unique(ids))
        rows = [
            {"work": int(i), "vec": v.tolist()}
            for i, v in zip(ids.tolist(), self._floats(vectors), strict=True)
        ]
        if rows:
            self._client.insert(self.collection, rows)

    def remove(self, ids: Ids) -> None:
        ids = np.asarray(ids, np.int64)
        for start in range(0, len(ids), DELETE_BATCH):
            chunk = ids[start : start + DELETE_BATCH].tolist()
            self._client.delete(self.collection, filter=f"work in {chunk}")

    def search(self, queries: NDArray[Any], k: int) -> SearchResult:
        k = max(1, k)
        n = len(queries)
        scores = np.full((n, k), -np.inf if not self.binary else np.inf, np.float32)
        found = np.full((n, k), -1, np.int64)
        if n == 0:
            return scores, found
        hits = self._client.search(
            self.collection,
            data=self._floats(queries).tolist(),
            limit=k,
            output_fields=["work"],
            search_params={"metric_type": "IP"},
            consistency_level="Strong",
        )
        for row, row_hits in enumerate(hits):
            for col, hit in enumerate(row_hits[:k]):
                ip = float(hit["distance"])
                scores[row, col] = (self.dim - ip) / 2 if self.binary else ip
                found[row, col] = int(hit["entity"]["work"])
        return scores, found

    def ids(self) -> Ids:
        out: list[int] = []
        iterator = self._client.query_iterator(
            self.collection, batch_size=PAGE, filter="row >= 0", output_fields=["work"]
        )
        while page := iterator.next():
            out.extend(int(r["work"]) for r in page)
        iterator.close()
        return np.asarray(out, np.int64)

    def frozen(self) -> MilvusIndex:
        """Itself: a snapshot saves only where the rows are, which does not change (the rows
        do; start-up reconciliation squares them with the catalog)."""
        return self

    def save(self, path: Path) -> None:
        """Milvus keeps the rows; the snapshot keeps where they are."""
        self._client.flush(self.collection)
        pointer = {
            "kind": POINTER_KIND,
            "uri": self.uri,
            "collection": self.collection,
            "dim": self.dim,
            "binary": self.binary,
        }
        path.write_text(json.dumps(pointer))

    @classmethod
    def from_pointer(cls, pointer: dict[str, Any]) -> MilvusIndex:
        return cls(pointer["uri"], pointer["collection"], pointer["dim"], pointer["binary"])


def milvus_index(uri: str, prefix: str) -> Callable[[str, int, bool], VectorIndex]:
    """An index factory for Library: each space an empty collection `<prefix>_<space>`
    (one left from an earlier model is dropped: the library restores it from the catalog)."""

    def new(space: str, dim: int, binary: bool) -> VectorIndex:
        name = f"{prefix}_{space}"
        if client(uri).has_collection(name):
            client(uri).drop_collection(name)
        return MilvusIndex(uri, name, dim, binary)

    return new


def read_pointer(path: Path) -> dict[str, Any] | None:
    """The pointer a MilvusIndex saved at `path`, or None for any other file."""
    with path.open("rb") as fh:
        head = fh.read(1)
    if head != b"{":
        return None
    pointer: dict[str, Any] = json.loads(path.read_text())
    return pointer if pointer.get("kind") == POINTER_KIND else None
