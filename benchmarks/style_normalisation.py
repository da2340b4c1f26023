"""Whether per-query score normalisation (the SSCD/DISC21 trick) or a hubness correction
(CSLS) helps the style verdict, on both style sets. Scores are the product's creator
aggregates (the mean of a creator's 3 closest works by the default profile's style head).
The reference for normalisation is both sets' `train` splits (openclipart creators and font
families that are neither registered nor impostors; the style head was fitted on them; at
most REFERENCE_GLYPHS glyphs per family), grouped by creator as the gallery is.

First table, per method: creator precision@1 and @3 on unseen works of registered creators,
and the open-set recall: the share of those works whose top creator is right AND scores
above the threshold that lets 1% (or 5%) of the unregistered styles' works (and, on fonts,
of same-character glyphs in unregistered families) through. As in section `normalisation`,
those thresholds are set on the evaluated non-matches themselves, so a monotone map of the
scores (what a fitted null is) leaves a row unchanged.

Second table: the verdicts matching would give, with the style null fitted on the
calibration background (benchmarks/calibrate.py's images: each image against every other
group's creator score) on raw scores, as now, or on normalised ones (each image less its
own reference level), rated per query among the set's registered creators, `match` at 0.1%
and `match|possible` at 1%.

    python -m benchmarks.style_normalisation --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from benchmarks.accuracy import CREATOR_WORKS, load
from benchmarks.calibrate import background as calibration_background
from benchmarks.fonts import Glyph, build_font_dev
from benchmarks.metrics import recall_at_fmr
from benchmarks.openclipart import build_style_dev
from benchmarks.report import machine, table, write_section
from models.embedder import Embedder
from models.registry import load_profile
from service.calibrate import distinct
from service.calibration import NullDistribution, any_of

Pairs = Sequence[tuple[str, Path]]
Matrix = NDArray[np.float64]
FMRS = (0.01, 0.05)
REFERENCE_K = 3  # reference creators averaged into a query's level
REFERENCE_GLYPHS = 16  # glyphs per reference font family (the artists give 367 drawings)
GLYPHS_PER_FAMILY = 8  # in the calibration background, as benchmarks/calibrate.py's default


def creator_scores(sims: Matrix, labels: NDArray[np.str_], creators: NDArray[np.str_]) -> Matrix:
    """[n, creators]: each row's mean of its CREATOR_WORKS closest works of each creator
    (fewer where a creator has fewer), as matching aggregates style."""
    out = np.empty((sims.shape[0], len(creators)))
    for j, c in enumerate(creators):
        cols = sims[:, labels == c]
        out[:, j] = -np.sort(-cols, axis=1)[:, : min(CREATOR_WORKS, cols.shape[1])].mean(axis=1)
    return out


def unchanged(s: Matrix, ref: Matrix, hub: Matrix) -> Matrix:
    """Matching's creator scores as they are."""
    return s


def minus_reference(k: int) -> Normaliser:
    """Subtract the query's mean score over its k closest reference creators."""

    def normalise(s: Matrix, ref: Matrix, hub: Matrix) -> Matrix:
        return s - ref[:, :k].mean(axis=1, keepdims=True)

    return normalise


def minus_hubness(s: Matrix, ref: Matrix, hub: Matrix) -> Matrix:
    """Subtract each creator's mean score over the reference images closest to it."""
    return s - hub[None, :]


def csls(s: Matrix, ref: Matrix, hub: Matrix) -> Matrix:
    """CSLS: twice the score, less the query's and the creator's neighbourhood means."""
    return 2 * s - ref[:, :3].mean(axis=1, keepdims=True) - hub[None, :]


def margin(k: int) -> Normaliser:
    """Each creator's score less the mean of the k best OTHER registered creators' scores
    (a ratio test over the catalog itself: no reference needed)."""

    def normalise(s: Matrix, ref: Matrix, hub: Matrix) -> Matrix:
        best = -np.sort(-s, axis=1)[:, : k + 1]
        among = s >= best[:, k : k + 1]  # the creator is one of the k+1 best
        others = np.where(
            among, (best.sum(axis=1, keepdims=True) - s) / k, best[:, :k].mean(axis=1)[:, None]
        )
        return np.asarray(s - others, np.float64)

    return normalise


# (creator scores [n, C], reference creators' scores sorted best first [n, R], each
# registered creator's hubness [C]) -> normalised creator scores [n, C]
Normaliser = Callable[[Matrix, Matrix, Matrix], Matrix]


@dataclass(frozen=True)
class Labelled:
    """Style vectors [n, d] and each one's creator."""

    vectors: Matrix
    labels: NDArray[np.str_]

    def aggregate(self, x: Matrix) -> Matrix:
        """[len(x), creators]: creator scores of `x` against these vectors' creators."""
        return creator_scores(x @ self.vectors.T, self.labels, np.unique(self.labels))

    def level(self, x: Matrix, k: int = REFERENCE_K) -> Matrix:
        """[len(x)]: each row's mean of its k best creator scores here (its reference
        level, subtracted by normalisation)."""
        return -np.sort(-self.aggregate(x), axis=1)[:, :k].mean(axis=1)


@dataclass(frozen=True)
class Scored:
    """One set's creator scores: unseen works of registered creators, and non-matches."""

    creators: NDArray[np.str_]
    queries: tuple[Matrix, Matrix]  # (creator scores, reference scores sorted)
    truth: NDArray[np.str_]
    negatives: dict[str, tuple[Matrix, Matrix]]
    reference_to_creators: Matrix  # [reference images, C]
    sizes: dict[str, int]


def score_set(embedder: Embedder, splits: dict[str, Pairs], reference: Labelled) -> Scored:
    """Embed a set's splits and aggregate their scores per creator."""
    vecs = {name: embed(embedder, pairs) for name, pairs in splits.items() if pairs}
    labels = {name: np.asarray([c for c, _ in pairs]) for name, pairs in splits.items()}
    gallery = Labelled(vecs["gallery"], labels["gallery"])

    def both(x: Matrix) -> tuple[Matrix, Matrix]:
        return gallery.aggregate(x), -np.sort(-reference.aggregate(x), axis=1)

    negatives: dict[str, tuple[Matrix, Matrix]] = {
        name: both(vecs[name]) for name in ("impostors", "cross") if name in vecs
    }
    if len(negatives) > 1:
        negatives["all unregistered"] = (
            np.concatenate([n[0] for n in negatives.values()]),
            np.concatenate([n[1] for n in negatives.values()]),
        )
    sizes = {name: len(pairs) for name, pairs in splits.items()}
    sizes["creators"] = len(np.unique(labels["gallery"]))
    return Scored(
        np.unique(labels["gallery"]),
        both(vecs["queries"]),
        labels["queries"],
        negatives,
        gallery.aggregate(reference.vectors),
        sizes,
    )


def embed(embedder: Embedder, pairs: Pairs, batch: int = 64) -> Matrix:
    return np.concatenate(
        [
            np.asarray(embedder.embed(load(pairs[i : i + batch])), np.float64)
            for i in range(0, len(pairs), batch)
        ]
    )


def evaluate(scored: Scored, normalise: Normaliser, hub_k: int) -> dict[str, float]:
    """Precision@1 and @3, and open-set recall at each of FMRS against each negative set."""
    hub = -np.sort(-scored.reference_to_creators, axis=0)[:hub_k].mean(axis=0)
    s = normalise(*scored.queries, hub)
    order = np.argsort(-s, axis=1)
    top3 = scored.creators[order[:, :3]]
    correct = top3[:, 0] == scored.truth
    out = {
        "P@1": float(correct.mean()),
        "P@3": float(np.mean([t in row for t, row in zip(scored.truth, top3, strict=True)])),
    }
    best = s.max(axis=1)
    for name, (neg, ref) in scored.negatives.items():
        negatives = normalise(neg, ref, hub).max(axis=1)
        for fmr in FMRS:
            out[f"recall@{fmr:.0%}, {name}"] = recall_at_fmr(best, correct, negatives, fmr)
    return out


def background_nulls(background: Labelled, reference: Labelled) -> dict[str, NullDistribution]:
    """The style null (creator scores of m = CREATOR_WORKS works) fitted on the background,
    each image against every other group with that many works: raw, and less the image's
    reference level."""
    groups = np.asarray([g for g in np.unique(background.labels)])
    groups = groups[[int((background.labels == g).sum()) >= CREATOR_WORKS for g in groups]]
    s = creator_scores(background.vectors @ background.vectors.T, background.labels, groups)
    other = background.labels[:, None] != groups[None, :]
    levelled = s - reference.level(background.vectors)[:, None]
    return {
        "raw": NullDistribution.fit(s[other].astype(np.float32)),
        "normalised": NullDistribution.fit(levelled[other].astype(np.float32)),
    }


def verdicts(
    scored: Scored, nulls: dict[str, NullDistribution], levels: dict[str, Matrix]
) -> dict[str, dict[str, float]]:
    """Per null: `match` and `match|possible` shares of unseen works of registered creators
    with the right top creator, and of each negative set (false matches), rated per query
    among the set's registered creators as matching rates them."""
    n = len(scored.creators)
    out: dict[str, dict[str, float]] = {}
    s = scored.queries[0]
    right = scored.creators[s.argmax(axis=1)] == scored.truth
    for name, null in nulls.items():
        normalised = name == "normalised"
        found = top_rates(s, null, levels["queries"] if normalised else None, n)
        row = {
            "registered styles' unseen works, match": float(np.mean(right & (found <= 1e-3))),
            "match|possible": float(np.mean(right & (found <= 1e-2))),
        }
        for part, (neg, _) in scored.negatives.items():
            false = top_rates(neg, null, levels[part] if normalised else None, n)
            row[f"{part}, match"] = float(np.mean(false <= 1e-3))
            row[f"{part}, match|possible"] = float(np.mean(false <= 1e-2))
        out[f"{name} ({null.n} null pairs)"] = row
    return out


def top_rates(
    s: Matrix, null: NullDistribution, level: NDArray[np.float64] | None, creators: int
) -> NDArray[np.float64]:
    """Each row's per-query rate of its best creator score (less its level, if given)."""
    best = s.max(axis=1) - (0.0 if level is None else level)
    return np.asarray([any_of(null.rate(float(b)), creators) for b in best])


METHODS: dict[str, tuple[Normaliser, int]] = {
    "none (matching's score)": (unchanged, 1),
    "minus the query's mean of its closest reference creator": (minus_reference(1), 1),
    "minus the query's mean of its 3 closest reference creators": (minus_reference(3), 1),
    "minus the query's mean of its 10 closest reference creators": (minus_reference(10), 1),
    "minus the creator's hubness (its 10 closest reference works)": (minus_hubness, 10),
    "minus the creator's hubness (its 50 closest reference works)": (minus_hubness, 50),
    "CSLS: 2s minus query's (3 creators) and creator's (10 works) means": (csls, 10),
    "CSLS: 2s minus query's (3 creators) and creator's (50 works) means": (csls, 50),
    "margin over the best other registered creator": (margin(1), 1),
    "margin over the mean of the 3 best other registered creators": (margin(3), 1),
}


def style_splits(cache: Path) -> tuple[dict[str, dict[str, Pairs]], Pairs]:
    """Each set's splits, and the reference: both sets' `train` splits (at most
    REFERENCE_GLYPHS glyphs per family, the first by character)."""
    clip = build_style_dev(cache)
    fonts = build_font_dev(cache)

    def pairs(glyphs: Sequence[Glyph]) -> Pairs:
        return [(g.family, g.path) for g in glyphs]

    taken: dict[str, int] = defaultdict(int)
    reference = list(clip.train)
    for glyph in fonts.train:
        if taken[glyph.family] < REFERENCE_GLYPHS:
            taken[glyph.family] += 1
            reference.append((glyph.family, glyph.path))
    sets = {
        "style-artists (openclipart)": {
            "gallery": clip.gallery,
            "queries": clip.queries,
            "impostors": clip.impostors,
        },
        "style-fonts (Debian fonts-*)": {
            "gallery": pairs(fonts.gallery),
            "queries": pairs(fonts.queries),
            "impostors": pairs(fonts.impostors),
            "cross": pairs(fonts.cross_style),
        },
    }
    return sets, reference


def labelled(embedder: Embedder, pairs: Pairs) -> Labelled:
    return Labelled(embed(embedder, pairs), np.asarray([c for c, _ in pairs]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    embedder = load_profile("default").embedder("style")
    sets, reference_pairs = style_splits(args.cache)
    reference = labelled(embedder, reference_pairs)
    pool = calibration_background(args.cache, GLYPHS_PER_FAMILY)
    background = labelled(embedder, [pool[i] for i in distinct(load(pool))])
    nulls = background_nulls(background, reference)
    data: dict[str, dict[str, dict[str, float]]] = {}
    parts = []
    for name, splits in sets.items():
        scored = score_set(embedder, splits, reference)
        data[name] = {m: evaluate(scored, f, hub_k) for m, (f, hub_k) in METHODS.items()}
        levels = {"queries": scored.queries[1][:, :REFERENCE_K].mean(axis=1)}
        levels |= {k: v[1][:, :REFERENCE_K].mean(axis=1) for k, v in scored.negatives.items()}
        data[f"{name}, verdicts"] = verdicts(scored, nulls, levels)
        columns = list(next(iter(data[name].values())))
        rated = data[f"{name}, verdicts"]
        sizes = ", ".join(f"{k} {v}" for k, v in scored.sizes.items())
        parts += [
            f"**{name}** ({sizes}; `cross`: same characters in unregistered families):",
            table(["method", *columns], [[m, *row.values()] for m, row in data[name].items()]),
            f"Verdicts with the style null on raw scores (as matching rates them) or on "
            f"scores less the query's mean over its {REFERENCE_K} closest reference creators:",
            table(
                ["null", *next(iter(rated.values()))], [[m, *r.values()] for m, r in rated.items()]
            ),
        ]
    elapsed = time.perf_counter() - started
    head = [
        "### Style score: per-query normalisation and hubness correction (CSLS)",
        f"Style model `{embedder.model_id}`; reference {len(reference.labels)} works of "
        f"{len(np.unique(reference.labels))} creators and families; calibration background "
        f"{len(background.labels)} images of {len(np.unique(background.labels))} groups. "
        f"{elapsed:.0f} s on {machine()}; `python -m benchmarks.style_normalisation`. "
        "Recall@r: unseen works of registered creators whose top creator is right and scores "
        "above the r-quantile of the named non-matches' top scores.",
    ]
    markdown = "\n\n".join(head + parts)
    write_section("style_normalisation", markdown, data)
    print(markdown)


if __name__ == "__main__":
    main()
