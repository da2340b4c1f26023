"""Content-addressed store of registered originals under the data directory, so a model
change can re-embed and evidence can show the work. Files are written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write bytes to path via a temporary file, fsync and rename (all or nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class BlobStore:
    """Files named by their sha256 under root/ab/abcdef..."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes) -> Path:
        """Store bytes once; later puts of the same hash are no-ops."""
        target = self.path(sha256)
        if not target.exists():
            atomic_write(target, data)
        return target

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
