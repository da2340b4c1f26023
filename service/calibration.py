"""Calibration: the measured distribution of scores between images that do NOT match (the null),
turned into an estimated false-match rate for any score, and verdict thresholds at target rates.
Calibration files are produced from data by benchmarks/calibrate.py, one per model profile."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

EXACT_TAIL = 2000  # the highest null scores are kept exactly; the bulk on a log-spaced grid
TAIL_FIT = 100  # how many of the closest null scores the tail model is fitted to
MIN_RATE = 1e-12  # extrapolation far past the sample means nothing finer than this
CONFIDENCE = 0.95  # of the model-free upper bounds reported beside each rate


@dataclass(frozen=True)
class Tail:
    """Generalised Pareto model of the null's closest scores (peaks over threshold), fitted by
    moments to the excesses of the k closest scores over the k-th. The shape `xi` is kept
    >= 0 (exponential or heavier): a bounded fit would claim a rate of zero past its end,
    which no finite sample supports, and would tie every score beyond it."""

    k: int = 0
    sigma: float = 0.0
    xi: float = 0.0

    @classmethod
    def fit(cls, excess: NDArray[np.floating]) -> Tail:
        mean, var = float(np.mean(excess)), float(np.var(excess))
        if mean <= 0 or var <= 0:
            return cls()
        ratio = mean * mean / var
        if ratio >= 1:  # lighter than exponential: use the exponential with the same mean
            return cls(len(excess), mean, 0.0)
        return cls(len(excess), 0.5 * mean * (ratio + 1), 0.5 * (1 - ratio))

    def survival(self, y: float) -> float:
        """P(excess > y) under the model."""
        if self.sigma <= 0:
            return 0.0
        if abs(self.xi) < 1e-9:
            return float(np.exp(-y / self.sigma))
        base = 1 + self.xi * y / self.sigma
        return float(base ** (-1 / self.xi)) if base > 0 else 0.0


@dataclass(frozen=True)
class NullDistribution:
    """Scores of non-matching pairs as (score, rate) points, rate = P(null score >= score)
    (or <= score when lower is closer, as for Hamming distances)."""

    scores: tuple[float, ...]  # ordered from most to least match-like
    rates: tuple[float, ...]  # non-decreasing
    n: int
    higher_is_closer: bool = True
    tail: Tail = Tail()  # model beyond the closest null score seen

    @classmethod
    def fit(
        cls, null_scores: NDArray[np.floating], higher_is_closer: bool = True
    ) -> NullDistribution:
        """Summarise a sample of non-match scores."""
        x = np.sort(np.asarray(null_scores, np.float64))
        x = x[::-1] if higher_is_closer else x
        n = len(x)
        ranks = np.unique(
            np.concatenate(
                [np.arange(1, min(n, EXACT_TAIL) + 1), np.geomspace(1, n, num=400).astype(np.int64)]
            )
        )
        k = max(2, min(TAIL_FIT, n // 20))
        tail = Tail.fit(np.abs(x[:k] - x[k - 1])) if n > k else Tail()
        return cls(
            tuple(float(x[r - 1]) for r in ranks),
            tuple(float(r / (n + 1)) for r in ranks),
            n,
            higher_is_closer,
            tail,
        )

    @cached_property
    def _oriented(self) -> NDArray[np.float64]:
        """The null scores, negated when lower is closer: higher is always closer here."""
        return np.asarray(self.scores, np.float64) * (1 if self.higher_is_closer else -1)

    @cached_property
    def _ascending(self) -> NDArray[np.float64]:
        """The oriented scores negated: ascending, for searchsorted."""
        return -self._oriented

    def _at_least(self, score: float) -> int:
        """How many stored scores are at least as close as `score`."""
        q = score if self.higher_is_closer else -score
        return int(np.searchsorted(self._ascending, -q, side="right"))

    def rate(self, score: float) -> float:
        """Estimated false-match rate of a score: the share of non-matches at least as close.
        Beyond the closest null seen, the fitted tail extrapolates below 1/(n+1)."""
        pos = self._at_least(score)
        if pos == 0:
            return self._extrapolate(score if self.higher_is_closer else -score, self._oriented)
        return float(self.rates[pos - 1]) if pos <= len(self.rates) else 1.0

    def count(self, score: float) -> int:
        """How many null scores are at least as close as `score`: exact below EXACT_TAIL,
        past it the most the stored grid allows (never an undercount)."""
        pos = self._at_least(score)
        if pos == 0:
            return 0
        if pos == len(self.rates):
            return self.n
        return round(self.rates[pos] * (self.n + 1)) - 1  # below the next stored rank

    def upper(self, score: float, confidence: float = CONFIDENCE) -> float:
        """Upper confidence bound on the pair rate of `score` from the null's counts alone,
        with no tail model: what the measurement supports by itself (exact Poisson bound)."""
        return min(1.0, poisson_upper(self.count(score), confidence) / max(1, self.n))

    def _extrapolate(self, q: float, oriented: NDArray[np.floating]) -> float:
        floor = 1.0 / (self.n + 1)
        if self.tail.k == 0:
            return floor
        k = min(self.tail.k, len(oriented))
        modelled = k / (self.n + 1) * self.tail.survival(q - float(oriented[k - 1]))
        return max(MIN_RATE, min(floor, modelled))

    def threshold(self, rate: float) -> float:
        """The least match-like score whose false-match rate is still <= rate."""
        idx = int(np.searchsorted(np.asarray(self.rates), rate, side="right")) - 1
        while idx >= 0 and self.rate(self.scores[idx]) > rate:  # ties share the larger rate
            idx -= 1
        if idx < 0:
            return self.scores[0] + (1e-6 if self.higher_is_closer else -1)
        return self.scores[idx]

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "higher_is_closer": self.higher_is_closer,
            "scores": list(self.scores),
            "rates": list(self.rates),
            "tail": {"k": self.tail.k, "sigma": self.tail.sigma, "xi": self.tail.xi},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NullDistribution:
        return cls(
            tuple(data["scores"]),
            tuple(data["rates"]),
            int(data["n"]),
            bool(data["higher_is_closer"]),
            Tail(**data.get("tail", {})),
        )


def kth_closest(scores: NDArray[np.floating], k: int) -> NDArray[np.float64]:
    """[n]: the k-th highest score of each row of `scores` [n, m]."""
    return -np.partition(-np.asarray(scores, np.float64), k - 1, axis=1)[:, k - 1]


@dataclass(frozen=True, eq=False)
class ContentNulls:
    """The content null, split by how crowded a query's neighbourhood is (the SSCD/DISC21
    background normalisation, moved from the score into the calibration): the cosine of a
    query's k-th closest background image, whole image against whole image, places it in a
    part, and each part's null holds the scores of that part's background images against
    the other works. With one part there is no background to keep."""

    nulls: tuple[NullDistribution, ...]
    k: int = 0
    edges: tuple[float, ...] = ()  # ascending bounds between parts on that k-th cosine
    background: NDArray[np.float16] | None = None  # [b, d] whole-image content vectors

    def __post_init__(self) -> None:
        if len(self.nulls) != len(self.edges) + 1:
            raise ValueError(f"{len(self.nulls)} content nulls need {len(self.nulls) - 1} edges")
        if list(self.edges) != sorted(self.edges):
            raise ValueError("the edges between content nulls must ascend")
        if len(self.nulls) > 1 and (
            self.background is None or not 1 <= self.k <= len(self.background)
        ):
            raise ValueError("content nulls split by neighbourhood need k background vectors")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContentNulls):
            return NotImplemented
        same = (self.nulls, self.k, self.edges) == (other.nulls, other.k, other.edges)
        if self.background is None or other.background is None:
            return same and self.background is other.background
        return same and bool(np.array_equal(self.background, other.background))

    def neighbourhoods(self, vectors: NDArray[np.floating]) -> NDArray[np.float64]:
        """[n]: each whole-image vector's k-th closest cosine among the background (nan
        with one part: nothing to place)."""
        if self.background is None:
            return np.full(len(vectors), np.nan)
        return kth_closest(np.asarray(vectors, np.float32) @ self._background32.T, self.k)

    @cached_property
    def _background32(self) -> NDArray[np.float32]:
        """The background in float32, converted once."""
        assert self.background is not None
        return self.background.astype(np.float32)

    def part(self, neighbourhood: float) -> int:
        """Index of the null for a query's neighbourhood (0: the sparsest)."""
        if not self.edges:
            return 0
        if math.isnan(neighbourhood):
            raise ValueError("a split content null needs the query's neighbourhood")
        return int(np.searchsorted(self.edges, neighbourhood))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"nulls": [n.to_json() for n in self.nulls]}
        if self.background is not None:
            data |= {
                "k": self.k,
                "edges": list(self.edges),
                "background_shape": list(self.background.shape),
                "background_float16": base64.b64encode(
                    self.background.astype("<f2").tobytes()
                ).decode(),
            }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContentNulls:
        """Also reads a calibration written before the split: one null, stored alone."""
        if "nulls" not in data:
            return cls((NullDistribution.from_json(data),))
        background = None
        if "background_float16" in data:
            raw = np.frombuffer(base64.b64decode(data["background_float16"]), "<f2")
            background = raw.reshape(data["background_shape"]).astype(np.float16)
        return cls(
            tuple(NullDistribution.from_json(n) for n in data["nulls"]),
            int(data.get("k", 0)),
            tuple(float(e) for e in data.get("edges", ())),
            background,
        )


@dataclass(frozen=True)
class Calibration:
    """Null distributions of one model profile: content cosine (by the query's
    neighbourhood), PDQ distance, per-creator style scores by how many of the creator's works
    were averaged (1..len(style)), and the geometric-verification inlier count of a query's
    closest works (None: not verified)."""

    profile: str
    models: dict[str, str]
    content: ContentNulls
    pdq: NullDistribution
    style: tuple[NullDistribution, ...]
    info: dict[str, Any]
    local: NullDistribution | None = None

    def style_null(self, n_works: int) -> NullDistribution:
        """The null for a creator score averaged over n_works works (few works: own null)."""
        return self.style[max(1, min(n_works, len(self.style))) - 1]

    def save(self, path: Path) -> None:
        data = {
            "profile": self.profile,
            "models": self.models,
            "info": self.info,
            "content": self.content.to_json(),
            "pdq": self.pdq.to_json(),
            "style": [s.to_json() for s in self.style],
        }
        if self.local is not None:
            data["local"] = self.local.to_json()
        path.write_text(json.dumps(data, separators=(",", ":")))

    @classmethod
    def load(cls, path: Path) -> Calibration:
        d = json.loads(path.read_text())
        return cls(
            d["profile"],
            d["models"],
            ContentNulls.from_json(d["content"]),
            NullDistribution.from_json(d["pdq"]),
            tuple(NullDistribution.from_json(s) for s in d["style"]),
            d.get("info", {}),
            NullDistribution.from_json(d["local"]) if "local" in d else None,
        )


def any_of(rate: float, comparisons: int) -> float:
    """Chance that at least one of `comparisons` independent non-matches scores this close:
    a pair's rate turned into a per-query rate for a catalog of that many works (creators)."""
    return float(-np.expm1(max(1, comparisons) * np.log1p(-min(rate, 1.0 - 1e-16))))


def combine_rates(rates: Sequence[float]) -> float:
    """False-match rate of 'any of these independent tests fired' for the best one:
    Bonferroni-style min * count, capped at 1."""
    return min(1.0, min(rates) * len(rates)) if rates else 1.0


def per_pair(rate: float, comparisons: int) -> float:
    """The pair rate whose `any_of` over `comparisons` is `rate` (its inverse)."""
    return float(-np.expm1(np.log1p(-min(rate, 1.0 - 1e-16)) / max(1, comparisons)))


def counted_bound(
    tests: Sequence[tuple[NullDistribution, int]], rate: float, confidence: float = CONFIDENCE
) -> float:
    """Upper confidence bound, from the nulls' measured counts alone (no tail model), on the
    chance that any of these tests (null, comparisons) reaches a per-query rate of `rate`:
    each test's count bound at the score where its rate is `rate`, summed (the union bound
    that `combine_rates` estimates as min * count), each at confidence 1 - (1 - confidence)
    / len(tests) so that the sum holds at `confidence`."""
    if not tests:
        return 1.0
    each = 1.0 - (1.0 - confidence) / len(tests)
    total = 0.0
    for null, comparisons in tests:
        reach = null.threshold(per_pair(rate, comparisons))
        total += any_of(null.upper(reach, each), comparisons)
    return min(1.0, total)


@lru_cache(maxsize=4096)  # few distinct counts recur: 0 past every null, n for the bulk
def poisson_upper(k: int, confidence: float = CONFIDENCE) -> float:
    """Garwood's upper confidence bound on a Poisson mean after k events: the mean at which
    k or fewer occur with chance 1 - confidence (3.0 for k = 0 at 95%). Wilson and
    Hilferty's chi-square approximation, refined by Newton steps on the exact Poisson sum up
    to 1,000 events (exact to 1e-12); beyond, the approximation alone (within 2e-7)."""
    alpha = 1.0 - confidence
    if k == 0:
        return -math.log(alpha)
    nu = 2 * k + 2
    z = NormalDist().inv_cdf(confidence)
    lam = nu / 2 * (1 - 2 / (9 * nu) + z * math.sqrt(2 / (9 * nu))) ** 3
    if k > 1000:  # the approximation is within 1e-6 here
        return lam
    log_factorials = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, k + 1)))])
    ks = np.arange(k + 1)
    for _ in range(6):
        logs = ks * math.log(lam) - lam - log_factorials
        top = float(logs.max())
        cdf = math.exp(top) * float(np.exp(logs - top).sum())
        lam += (cdf - alpha) / math.exp(float(logs[-1]))  # d cdf / d lam = -pmf(k)
    return lam
