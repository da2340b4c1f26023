"""Grey-thumbnail correlation as a fourth content test, for copies that keep their geometry
but lose detail (blur, rescale), where keypoints find little and PDQ's bits flip on plain
images: a probe, not used by matching. A query's score against a work is the best
correlation of the query's zero-mean grey thumbnail, under every flip and quarter turn, with
the work's; it is checked on the query's 10 closest works by whole-image content cosine
(matching picks its keypoint candidates by its best-of-views score) and rated against the
same pairs in the background (each image and its 10 closest others, whoever made them, as
the keypoint null is), for a catalog of the works' size and four tests. Per edit:
the share of copies whose true work is rated under 1% per query; the distractors rated
under 1%; and how many of the product's misses at 1% (`benchmarks/out/accuracy.json` or
`accuracy-default-copy.json`, the newer: the last accuracy run on the same copies) it would
rate under 1%.

    python -m benchmarks.photometric --copy-queries 1200
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from benchmarks.content_probe import Probe, embedded, probe_parser
from benchmarks.report import OUT, machine, table, write_section
from models import local
from models.pdq import pixels
from service.calibration import NullDistribution, any_of

TESTS = 4  # content, PDQ, keypoints and this one, Bonferroni-combined as matching does
RATE = 0.01
TRANSPOSES: tuple[Image.Transpose | None, ...] = (None, *Image.Transpose)  # the 8 dihedral


def grey_thumbnail(side: int) -> Callable[[Image.Image], NDArray[np.float64]]:
    """The image as a zero-mean, unit-norm grey thumbnail of side x side (box filter)."""

    def feature(img: Image.Image) -> NDArray[np.float64]:
        g = np.asarray(img.convert("L").resize((side, side), Image.Resampling.BOX), np.float64)
        g = (g - g.mean()).ravel()
        out: NDArray[np.float64] = g / max(float(np.linalg.norm(g)), 1e-9)
        return out

    return feature


def pdq_float(img: Image.Image) -> NDArray[np.float64]:
    """PDQ's 256 DCT values before they are cut at their median: PDQ without the bits."""
    import pdqhash

    v = np.asarray(pdqhash.compute_float(pixels(img))[0], np.float64)
    v = v - np.median(v)
    out: NDArray[np.float64] = v / max(float(np.linalg.norm(v)), 1e-9)
    return out


FEATURES = {
    "grey 16 px": grey_thumbnail(16),
    "grey 32 px": grey_thumbnail(32),
    "PDQ float": pdq_float,
}


def dihedral(
    images: list[Image.Image], feature: Callable[[Image.Image], NDArray[np.float64]]
) -> NDArray[np.float64]:
    """[n, 8, d]: the feature of every image under its eight flips and quarter turns."""
    return np.stack(
        [
            np.stack([feature(i if t is None else i.transpose(t)) for t in TRANSPOSES])
            for i in images
        ]
    )


def correlations(
    queries: NDArray[np.float64], works: NDArray[np.float64], candidates: NDArray[np.int64]
) -> NDArray[np.float64]:
    """[n, k]: each query's best correlation, under any of its variants ([n, 8, d]), with
    each of its candidate works ([m, d], indices [n, k])."""
    out: NDArray[np.float64] = np.einsum("nvd,nkd->nkv", queries, works[candidates]).max(axis=2)
    return out


def best_of_candidates(
    queries: NDArray[np.float64], works: NDArray[np.float64], candidates: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Per query the candidate work it correlates best with (`correlations`), and that
    correlation."""
    corr = correlations(queries, works, candidates)
    best = corr.argmax(axis=1)
    return candidates[np.arange(len(corr)), best], corr.max(axis=1)


def closest(sims: NDArray[np.float32], k: int) -> NDArray[np.int64]:
    """[n, k] indices of each row's k highest similarities."""
    return np.argsort(-sims, axis=1)[:, :k]


def rows_for(
    probe: Probe, cos: dict[str, NDArray[np.float32]], name: str, misses: set[str]
) -> dict[str, tuple[int, float]]:
    """Per edit, 'all', the distractors and the product's misses: (count, share rated)."""
    sets = probe.sets
    bg_sims = cos["background"] @ cos["background"].T
    np.fill_diagonal(bg_sims, -np.inf)
    feature = FEATURES[name]
    bg = dihedral(sets["background"], feature)
    works = np.stack([feature(i) for i in sets["works"]])
    bg_cands = closest(bg_sims, local.CANDIDATES)
    null = NullDistribution.fit(correlations(bg, bg[:, 0], bg_cands).ravel())

    def rated(part: str) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        cands = closest(cos[part] @ cos["works"].T, local.CANDIDATES)
        found, corr = best_of_candidates(dihedral(sets[part], feature), works, cands)
        rates = np.array([any_of(null.rate(c), local.CANDIDATES) * TESTS for c in corr])
        return found, rates <= RATE

    found, ok = rated("queries")
    ok &= found == probe.truth
    edits = np.asarray(probe.edits)
    out = {e: share(ok[edits == e]) for e in sorted(set(edits))}
    out["all"] = share(ok)
    out["distractors (rated, any work)"] = share(rated("distractors")[1])
    out["the product's misses at 1%"] = share(ok[[p in misses for p in probe.paths]])
    return out


def share(flags: NDArray[np.bool_]) -> tuple[int, float]:
    """How many, and the share that are set."""
    return len(flags), float(flags.mean()) if len(flags) else 0.0


def main(argv: list[str] | None = None) -> None:
    args = probe_parser(__doc__).parse_args(argv)
    started = time.perf_counter()
    # the product's misses, from the last accuracy run: a whole one or one of the copy set
    runs = [p for p in (OUT / "accuracy.json", OUT / "accuracy-default-copy.json") if p.exists()]
    if not runs:
        raise SystemExit(
            f"no accuracy run in {OUT}: run `python -m benchmarks.accuracy --sets copy` with "
            "the same --copy-queries and --cache first"
        )
    last = max(runs, key=lambda p: p.stat().st_mtime)
    accuracy = json.loads(last.read_text())
    misses = {m["query"] for m in accuracy["copy"]["misses_at_1pct"]}
    probe, _, cos = embedded(args)
    if not misses <= set(probe.paths):
        raise SystemExit(
            "the last accuracy run missed copies that are not in this sample: run "
            "`python -m benchmarks.accuracy` with the same --copy-queries and --cache first"
        )
    data = {name: rows_for(probe, cos, name, misses) for name in FEATURES}
    elapsed = time.perf_counter() - started
    sizes = {name: len(imgs) for name, imgs in probe.sets.items()}
    first = next(iter(data.values()))
    rows = [[label, first[label][0], *(data[n][label][1] for n in data)] for label in first]
    markdown = "\n\n".join(
        [
            "### Grey thumbnails as a fourth content test (a probe)",
            f"{sizes['queries']} copies of {sizes['works']} works, {sizes['distractors']} "
            f"distractors; null from {sizes['background']} background images, each against its "
            f"{local.CANDIDATES} closest others by content cosine. A cell is the share of copies "
            f"whose true work the test alone rates under {RATE:.0%} per query (four tests, "
            f"{sizes['works']} works). {elapsed:.0f} s on {machine()}; "
            f"`python -m benchmarks.photometric --copy-queries {args.copy_queries}`.",
            table(["edit", "copies", *data], rows),
        ]
    )
    write_section("photometric", markdown, data)
    print(markdown)


if __name__ == "__main__":
    main()
