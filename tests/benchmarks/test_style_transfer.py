"""The style-transfer benchmark's pairing and tables (the network itself runs in the benchmark)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchmarks.style_transfer import Query, pairings, style_row, verdict_rows


def test_pairings_cap_style_images_per_creator_and_pick_distinct_pictures() -> None:
    styles = [("ann", Path(f"ann/{k}.png")) for k in range(5)] + [("bob", Path("bob/0.png"))]
    out = pairings(styles, contents=10, seed=0, per_creator=3, per_style=2)
    assert len(out) == 3 * 2 + 1 * 2
    assert {q.style_creator for q in out} == {"ann", "bob"}
    assert len({q.style for q in out if q.style_creator == "ann"}) == 3
    for style in {q.style for q in out}:
        picked = [q.content for q in out if q.style == style]
        assert len(set(picked)) == 2 and all(0 <= k < 10 for k in picked)
    assert pairings(styles, 10, 0, 3, 2) == out  # seeded
    assert pairings(styles, 10, 1, 3, 2) != out


def test_pairings_take_every_picture_when_there_are_few() -> None:
    out = pairings([("ann", Path("a.png"))], contents=1, seed=0, per_style=2)
    assert out == [Query("ann", Path("a.png"), 0)]


def test_style_row_counts_the_artist_and_the_content_creator_first() -> None:
    ranked = [["ann", "bob"], ["pics", "ann"], ["bob", "pics", "ann"], []]
    row = style_row("x", ranked, ["ann", "ann", "ann", "ann"], ["pics"] * 4)
    assert row == ["x", 0.25, 0.75, 0.25]


def _result(style: tuple[str, str] | None, content: tuple[str, str] | None) -> Any:
    creators = [SimpleNamespace(creator_id=style[0])] if style else []
    matches = [SimpleNamespace(work_id=content[0])] if content else []
    return SimpleNamespace(
        style=SimpleNamespace(creators=creators, verdict=style[1] if style else "none"),
        content=SimpleNamespace(matches=matches, verdict=content[1] if content else "none"),
    )


def test_verdict_rows_need_the_right_creator_or_work_first() -> None:
    imitations = [
        _result(("ann", "match"), ("pics/1", "possible")),
        _result(("bob", "match"), ("pics/9", "match")),  # wrong artist, wrong picture
        _result(("ann", "possible"), None),
        _result(None, ("pics/3", "match")),
    ]
    controls = [_result(("ann", "possible"), ("pics/2", "none")), _result(None, None)]
    rows = {
        r[0]: r[1:]
        for r in verdict_rows(
            imitations,
            ["ann"] * 4,
            controls,
            (["pics/1", "pics/2", "pics/3", "pics/3"], ["pics/2", "x"]),
        )
    }
    assert rows["style match, the imitated artist first"][0] == 0.25
    assert rows["style match|possible, the imitated artist first"][0] == 0.5
    assert rows["style match, any creator"] == [0.5, 0.0]
    assert rows["style match|possible, any creator"] == [0.75, 0.5]
    assert rows["content match on the redrawn picture"] == [0.25, 0.0]
    assert rows["content match|possible on the redrawn picture"] == [0.5, 0.0]
    assert rows["style match, the imitated artist first"][1] == "-"  # controls imitate no one
