"""The one place where calibrated false-match rates become verdicts and attribution shares."""

from __future__ import annotations

import math
from collections.abc import Sequence

from service.schemas import Verdict


def verdict(rate: float, match_rate: float, possible_rate: float) -> Verdict:
    """'match' at or below match_rate, 'possible' at or below possible_rate, else 'none'."""
    if rate <= match_rate:
        return "match"
    if rate <= possible_rate:
        return "possible"
    return "none"


def shares(rates: Sequence[float], possible_rate: float) -> list[float]:
    """Attribution shares: each creator weighs -log10(rate / possible_rate) (zero for those
    that do not clear 'possible'); shares sum to 1 when any creator clears it."""
    weights = [max(0.0, -math.log10(max(r, 1e-300) / possible_rate)) for r in rates]
    total = sum(weights)
    return [w / total if total > 0 else 0.0 for w in weights]
