"""Whether per-query score normalisation (the SSCD/DISC21 trick) or a hubness correction
(CSLS) helps the style verdict, on both style sets. Scores are the product's creator
aggregates (the mean of a creator's 3 closest works by the default profile's style head).
The reference for normalisation is each set's `train` split (creators and families that are
neither registered nor impostors; the style head was fitted on them), grouped by creator as
the gallery is. Per method: creator precision@1 and @3 on unseen works of registered creators,
and the verdict's open-set recall: the share of those works whose top creator is right AND
scores above the threshold that lets 1% (or 5%) of the unregistered styles' works (and, on
fonts, of same-character glyphs in unregistered families) through. As in section
`normalisation`, the thresholds are set on the evaluated non-matches themselves, so a
monotone map of the scores (what a fitted null is) leaves a row unchanged.

    python -m benchmarks.style_normalisation --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from benchmarks.accuracy import CREATOR_WORKS, load
from benchmarks.fonts import build_font_dev
from benchmarks.metrics import recall_at_fmr
from benchmarks.openclipart import build_style_dev
from benchmarks.report import machine, table, write_section
from models.embedder import Embedder
from models.registry import load_profile

Pairs = Sequence[tuple[str, Path]]
Matrix = NDArray[np.float64]
FMRS = (0.01, 0.05)


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
class Scored:
    """One set's creator scores: unseen works of registered creators, and non-matches."""

    creators: NDArray[np.str_]
    queries: tuple[Matrix, Matrix]  # (creator scores, reference scores sorted)
    truth: NDArray[np.str_]
    negatives: dict[str, tuple[Matrix, Matrix]]
    reference_to_creators: Matrix  # [reference images, C]
    sizes: dict[str, int]


def score_set(embedder: Embedder, splits: dict[str, Pairs]) -> Scored:
    """Embed a set's splits and aggregate their scores per creator."""
    vecs = {name: embed(embedder, pairs) for name, pairs in splits.items() if pairs}
    labels = {name: np.asarray([c for c, _ in pairs]) for name, pairs in splits.items()}
    gallery, reference = vecs["gallery"], vecs["reference"]
    creators = np.unique(labels["gallery"])
    groups = np.unique(labels["reference"])

    def both(x: Matrix) -> tuple[Matrix, Matrix]:
        ref = creator_scores(x @ reference.T, labels["reference"], groups)
        return creator_scores(x @ gallery.T, labels["gallery"], creators), -np.sort(-ref, axis=1)

    negatives: dict[str, tuple[Matrix, Matrix]] = {
        name: both(vecs[name]) for name in ("impostors", "cross") if name in vecs
    }
    if len(negatives) > 1:
        negatives["all unregistered"] = (
            np.concatenate([n[0] for n in negatives.values()]),
            np.concatenate([n[1] for n in negatives.values()]),
        )
    sizes = {name: len(pairs) for name, pairs in splits.items()}
    sizes |= {"creators": len(creators), "reference creators": len(groups)}
    return Scored(
        creators,
        both(vecs["queries"]),
        labels["queries"],
        negatives,
        creator_scores(reference @ gallery.T, labels["gallery"], creators),
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


def style_splits(cache: Path) -> dict[str, dict[str, Pairs]]:
    clip = build_style_dev(cache)
    fonts = build_font_dev(cache)

    def pairs(glyphs: Sequence[object]) -> Pairs:
        return [(g.family, g.path) for g in glyphs]  # type: ignore[attr-defined]

    return {
        "style-artists (openclipart)": {
            "gallery": clip.gallery,
            "queries": clip.queries,
            "impostors": clip.impostors,
            "reference": clip.train,
        },
        "style-fonts (Debian fonts-*)": {
            "gallery": pairs(fonts.gallery),
            "queries": pairs(fonts.queries),
            "impostors": pairs(fonts.impostors),
            "cross": pairs(fonts.cross_style),
            "reference": pairs(fonts.train),
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    embedder = load_profile("default").embedder("style")
    data: dict[str, dict[str, dict[str, float]]] = {}
    parts = ["### Style score: per-query normalisation and hubness correction (CSLS)"]
    for name, splits in style_splits(args.cache).items():
        scored = score_set(embedder, splits)
        data[name] = {m: evaluate(scored, f, hub_k) for m, (f, hub_k) in METHODS.items()}
        columns = list(next(iter(data[name].values())))
        sizes = ", ".join(f"{k} {v}" for k, v in scored.sizes.items())
        parts += [
            f"**{name}** ({sizes}; `cross`: same characters in unregistered families):",
            table(["method", *columns], [[m, *row.values()] for m, row in data[name].items()]),
        ]
    elapsed = time.perf_counter() - started
    parts.insert(
        1,
        f"Style model `{embedder.model_id}`; {elapsed:.0f} s on {machine()}; "
        "`python -m benchmarks.style_normalisation`. Recall@r: unseen works of registered "
        "creators whose top creator is right and scores above the r-quantile of the named "
        "non-matches' top scores.",
    )
    markdown = "\n\n".join(parts)
    write_section("style_normalisation", markdown, data)
    print(markdown)


if __name__ == "__main__":
    main()
