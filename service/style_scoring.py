"""Style scoring of one query: its style neighbours aggregated per creator (the mean of a
creator's closest works), each creator's calibrated rate among the catalog's creators, and
attribution shares."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from indexer.library import Library
from indexer.spaces import Hit
from service.calibration import Calibration
from service.rate_basis import basis, per_query_rate
from service.schemas import CreatorMatch, StyleResult, WorkMatch
from service.verdicts import shares, verdict

if TYPE_CHECKING:
    from service.matching import MatchOptions


def style_result(
    hits: list[Hit], opts: MatchOptions, cal: Calibration, library: Library
) -> StyleResult:
    """The style answer of one query from its style neighbours `hits`: each creator's
    aggregate, calibrated among the catalog's creators, with attribution shares."""
    per_creator: dict[str, list[float]] = defaultdict(list)
    for h in hits:
        per_creator[h.work.creator_id].append(h.score)
    mine = [h for h in hits if opts.creator in (None, h.work.creator_id)]
    shown = mine[: opts.top_k]  # scoped to a creator: its own works, however others rank
    bases = [basis(cal.style_null(1), h.score, len(library)) for h in shown]
    works = [
        WorkMatch(
            creator_id=h.work.creator_id,
            work_id=h.work.work_id,
            score=round(h.score, 6),
            calibrated=test.calibrated,
            upper=test.upper,
            verdict=verdict(test.calibrated, opts.match_rate, opts.possible_rate),
            warnings=h.work.warnings,
            tests={"style": test},
        )
        for h, test in zip(shown, bases, strict=True)
    ]
    # a work outside the neighbours scores at most the last neighbour
    ceiling = hits[-1].score if hits else 0.0
    raw: dict[str, float] = {}  # each creator's score before rounding
    creators = []
    for creator_id, scores in per_creator.items():
        match, raw[creator_id] = _creator(creator_id, scores, opts, ceiling, cal, library)
        creators.append(match)
    creators.sort(key=lambda c: (c.calibrated, -c.score))
    for c, share in zip(
        creators, shares([c.calibrated for c in creators], opts.possible_rate), strict=True
    ):
        c.share = round(share, 4)
    listed = [c for c in creators if opts.creator in (None, c.creator_id)][: opts.top_k]
    for c in listed:  # what the shown creators' rates stand on
        test = basis(cal.style_null(c.works), raw[c.creator_id], library.creators)
        c.tests, c.upper = {"style": test}, test.upper
    generic = sum(1 for c in creators if c.calibrated <= opts.possible_rate)
    if not listed:
        return StyleResult(
            verdict="none",
            score=0.0,
            calibrated=1.0,
            creators=[],
            matches=[],
            generic_creators=generic,
        )
    best = listed[0]
    return StyleResult(
        verdict=verdict(best.calibrated, opts.match_rate, opts.possible_rate),
        score=best.score,
        calibrated=best.calibrated,
        upper=best.upper,
        creators=listed,
        matches=works,
        generic_creators=generic,
    )


def _creator(
    creator_id: str,
    scores: list[float],
    opts: MatchOptions,
    ceiling: float,
    cal: Calibration,
    library: Library,
) -> tuple[CreatorMatch, float]:
    """Aggregate a creator's closest works: mean of the top m, m = min(M, their works).
    Works not among the query's neighbours count at `ceiling`, the last neighbour's
    score: the most they can score under exact search, so the mean is an upper bound,
    exact when all m are neighbours (a creator with one close work no longer counts it
    m times). Returns the match and its score before rounding."""
    m = max(1, min(opts.works_per_creator, library.works_of(creator_id)))
    top = sorted(scores, reverse=True)[:m]
    top += [min(ceiling, top[-1])] * (m - len(top))
    score = float(np.mean(top))
    rate = per_query_rate(cal.style_null(m), score, library.creators)
    match = CreatorMatch(
        creator_id=creator_id,
        score=round(score, 6),
        calibrated=rate,
        verdict=verdict(rate, opts.match_rate, opts.possible_rate),
        share=0.0,
        works=m,
    )
    return match, score
