"""Signed removal receipts: what was removed (work ids and the sha256 of their bytes), when,
by whom, from which index state, and the audit log head that records it. The receipt is
kept in the catalog and can be fetched again; anyone with the service's public key can
check it offline (`styletrace verify RECEIPT.json`)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from indexer import audit
from indexer.catalog import Work
from indexer.library import Library
from service.signing import Signer


def removal_receipt(
    library: Library, signer: Signer, works: Sequence[Work], creator_id: str, actor: str
) -> dict[str, Any]:
    """Sign and keep a receipt for works just removed (all of one creator)."""
    receipt_id = f"r_{secrets.token_hex(8)}"
    body = {
        "receipt_id": receipt_id,
        "kind": "removal",
        "creator_id": creator_id,
        "removed": [
            {
                "work_id": w.work_id,
                "sha256": w.sha256,
                "registered_at": _utc(w.registered_at),
                "removed_at": _utc(w.removed_at) if w.removed_at else None,
            }
            for w in works
        ],
        "requested_by": actor,
        "issued_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "index": library.snapshot_id,
        "audit_head": audit.head(library.catalog.engine),
        "effect": "the works' vectors left every index and their originals were deleted before "
        "this receipt was issued; the catalog keeps a tombstone (ids, hashes, times)",
    }
    signed = signer.signed(body)
    library.catalog.add_receipt(receipt_id, "removal", creator_id, signed)
    return signed


def _utc(at: datetime) -> str:
    return at.replace(tzinfo=UTC).isoformat(timespec="seconds")
