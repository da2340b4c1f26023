"""The packet's side-by-side image outlines where verification placed the first content match
that has a verdict (service/evidence.py); a match without one is not outlined."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from PIL import Image

from indexer.errors import WorkNotFound
from service.evidence import TILE, side_by_side
from service.schemas import (
    ContentResult,
    MatchResult,
    ModelsInfo,
    QueryInfo,
    StyleResult,
    Thresholds,
    Verdict,
    WorkMatch,
)


class _NoWorks:
    def get(self, work_id: str) -> Any:
        raise WorkNotFound(work_id)


def _result(verdict: Verdict) -> MatchResult:
    placed = WorkMatch(
        creator_id="alice",
        work_id="alice/w.png",
        score=0.9,
        calibrated=1e-4 if verdict == "match" else 0.5,
        verdict=verdict,
        placement=[(40.0, 20.0), (160.0, 20.0), (160.0, 100.0), (40.0, 100.0)],
    )
    empty = StyleResult(
        verdict="none", score=0.0, calibrated=1.0, creators=[], matches=[], generic_creators=0
    )
    return MatchResult(
        query=QueryInfo(sha256="0" * 64, width=200, height=120),
        style=empty,
        content=ContentResult(verdict=verdict, score=0.9, calibrated=0.5, matches=[placed]),
        models=ModelsInfo(style="s", content="c", hash="h", index="i", calibration="k"),
        thresholds=Thresholds(match=0.001, possible=0.01),
    )


def _red(image: Image.Image) -> np.ndarray:
    px = np.asarray(image.crop((0, 0, TILE, TILE)), np.int16)
    return (px[..., 0] > 200) & (px[..., 1] < 60) & (px[..., 2] < 60)


def test_the_query_tile_outlines_where_the_copy_lies() -> None:
    library: Any = SimpleNamespace(catalog=_NoWorks())
    query = Image.new("RGB", (200, 120), "white")
    red = _red(side_by_side(library, query, _result("match")))
    ys, xs = np.nonzero(red)
    f = (TILE - 8) / 200  # the query's thumbnail scale; it is pasted 4 px from the top
    left = (TILE - round(200 * f)) // 2
    assert len(xs) > 100
    assert abs(xs.min() - (left + 40 * f)) <= 2 and abs(xs.max() - (left + 160 * f)) <= 2
    assert abs(ys.min() - (4 + 20 * f)) <= 2 and abs(ys.max() - (4 + 100 * f)) <= 2
    assert not _red(side_by_side(library, query, _result("none"))).any()
