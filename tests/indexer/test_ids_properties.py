"""Property tests of id validation: any text is either returned unchanged or refused with
InvalidId, and an accepted id can never name a place outside the folder it is joined to."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from hypothesis import example, given
from hypothesis import strategies as st

from indexer.errors import InvalidId
from indexer.ids import MAX_CREATOR_ID, MAX_WORK_ID, check_creator_id, check_work_id

BASE = Path("/srv/styletrace/data/originals")
# Text weighted towards the characters that make trouble: separators, dots, controls,
# format characters and look-alikes, mixed with ordinary letters.
TRICKY = st.sampled_from([*"/\\.\0\n\r\t %'\";-_@+~:", "\u202e", "\u200b", "\ufeff", "／", "․"])
ids = st.lists(TRICKY | st.characters(), max_size=40).map("".join) | st.text(max_size=1200)


def stays_inside(name: str) -> bool:
    """Joined to BASE and normalised, does `name` stay under BASE?"""
    joined = Path(*(BASE.parts + PurePosixPath(name).parts)).resolve(strict=False)
    return joined == BASE or BASE in joined.parents


@given(ids)
def test_work_ids_are_kept_or_refused(text: str) -> None:
    try:
        kept = check_work_id(text)
    except InvalidId as exc:
        assert "invalid work_id" in str(exc) and len(str(exc)) < 400
        return
    assert kept == text and 0 < len(text) <= MAX_WORK_ID
    assert text.isprintable() and "\\" not in text and not text.startswith("/")
    assert all(part not in ("", ".", "..") for part in text.split("/"))
    assert stays_inside(text)


@given(ids)
@example("0\n")  # once accepted: a "$"-anchored pattern matched before a trailing newline
@example("alice\r\n")
def test_creator_ids_are_kept_or_refused(text: str) -> None:
    try:
        kept = check_creator_id(text)
    except InvalidId as exc:
        assert "invalid creator_id" in str(exc) and len(str(exc)) < 400
        return
    assert kept == text and 0 < len(text) <= MAX_CREATOR_ID
    assert text.isascii() and text.isprintable() and text[0].isalnum()
    assert "/" not in text and "\\" not in text and " " not in text
    assert stays_inside(text) and stays_inside(f"{text}/{text}")
