"""What a creator key sees of a match result: only its own creator's works and style
evidence (a creator asks "does this copy or imitate ME?"), with verdicts recomputed from
what is left. Rates stay as measured against the whole catalog."""

from __future__ import annotations

from service.consent import resolve
from service.schemas import ContentResult, MatchResult, StyleResult


def restrict(result: MatchResult, creator_id: str) -> MatchResult:
    """A copy of the result keeping only `creator_id`'s matches."""
    content = [m for m in result.content.matches if m.creator_id == creator_id]
    creators = [c for c in result.style.creators if c.creator_id == creator_id]
    style_works = [m for m in result.style.matches if m.creator_id == creator_id]
    best_c = content[0] if content else None
    best_s = creators[0] if creators else None
    out = result.model_copy(deep=True)
    out.content = ContentResult(
        verdict=best_c.verdict if best_c else "none",
        score=best_c.score if best_c else 0.0,
        calibrated=best_c.calibrated if best_c else 1.0,
        upper=best_c.upper if best_c else 1.0,
        matches=content,
    )
    out.style = StyleResult(
        verdict=best_s.verdict if best_s else "none",
        score=best_s.score if best_s else 0.0,
        calibrated=best_s.calibrated if best_s else 1.0,
        upper=best_s.upper if best_s else 1.0,
        creators=creators,
        matches=style_works,
        generic_creators=result.style.generic_creators,
    )
    if result.policy is not None:
        out.policy = resolve([a for a in result.policy.applies if a.creator_id == creator_id])
    return out
