"""What a rate stands on: one test's per-query false-match rate for a measured value, and
the null it was read from (its size, how many of its pairs came as close, and the bound
those counts alone give)."""

from __future__ import annotations

from service.calibration import NullDistribution, any_of
from service.schemas import RateBasis


def per_query_rate(null: NullDistribution, value: float, comparisons: int) -> float:
    """One test's per-query rate: the chance that any of `comparisons` non-matches measures
    as close as `value`."""
    return any_of(null.rate(value), comparisons)


def basis(null: NullDistribution, value: float, comparisons: int) -> RateBasis:
    """One test's per-query rate for `value` among `comparisons`, and what it stands on."""
    return RateBasis(
        value=round(value, 6),
        calibrated=per_query_rate(null, value, comparisons),
        null_pairs=null.n,
        closer=null.count(value),
        upper=any_of(null.upper(value), comparisons),
    )
