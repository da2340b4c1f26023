"""Validation of creator and work ids: printable, bounded, no path traversal."""

from __future__ import annotations

import re
import unicodedata

from indexer.errors import InvalidId

MAX_CREATOR_ID = 200
MAX_WORK_ID = 1000
_CREATOR = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*")  # the whole id: fullmatch, since
# "$" would also accept a trailing newline


def check_creator_id(creator_id: str) -> str:
    """A creator id: letters, digits and ._@+- , starting with a letter or digit."""
    if not creator_id or len(creator_id) > MAX_CREATOR_ID or not _CREATOR.fullmatch(creator_id):
        raise InvalidId(
            f"invalid creator_id {creator_id[:80]!r}: use 1-{MAX_CREATOR_ID} letters, digits "
            "or ._@+- , starting with a letter or digit"
        )
    return creator_id


def check_work_id(work_id: str) -> str:
    """A work id as kept: '/'-separated path segments, printable, no '.', '..' or empty
    segments, in Unicode's composed form (NFC), so that a name typed composed or decomposed
    (as macOS writes file names) is one id. Printable excludes control and format characters
    (NUL, newlines, bidi overrides, zero-width spaces), which would let one id display as
    another in receipts and evidence."""
    bad = (
        not work_id
        or len(work_id) > MAX_WORK_ID
        or not work_id.isprintable()
        or "\\" in work_id
        or any(part in ("", ".", "..") for part in work_id.split("/"))
    )
    if bad:
        raise InvalidId(
            f"invalid work_id {work_id[:80]!r}: use 1-{MAX_WORK_ID} printable characters as "
            "'/'-separated names, without empty, '.' or '..' parts or backslashes"
        )
    return canonical(work_id)


def canonical(work_id: str) -> str:
    """The form a work id is kept and looked up in (NFC)."""
    return unicodedata.normalize("NFC", work_id)
