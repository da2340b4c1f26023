"""Copy detection on a domain no part of styletrace was fitted or measured on: wallpapers
(mostly photographs and renders) from Debian packages that neither the calibration
background nor the copy set reads. A seeded half of the pictures is registered beside the
copy set's 500 sources; their copies (as is and under the copy set's 12 edits) are the
positives, the other half (as is and edited) the non-copies. It reports recall at 1%
false-match rate against those non-copies and the calibrated verdicts' rates, which were
fitted on drawings and glyphs (benchmarks/RESULTS.md, section unseen_domain).

    apt-get install plasma-workspace-wallpapers ukui-wallpapers lomiri-wallpapers \\
        lomiri-wallpapers-16.04 sway-backgrounds
    python -m benchmarks.unseen_domain --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from benchmarks.accuracy import (
    Predictions,
    creator_id,
    match_all,
    product_top1,
    registered_runtime,
    top1,
)
from benchmarks.baselines import pdq_similarity
from benchmarks.copyset import (
    RASTER,
    SOURCE_SIZE,
    WALLPAPER_SETS,
    CopyRoots,
    build_copy_dev,
    flatten,
)
from benchmarks.edits import EDITS, Edit
from benchmarks.metrics import by_label, recall_at_fmr
from benchmarks.report import (
    machine,
    profile_arg,
    profile_flag,
    profile_name,
    profiled,
    table,
    write_section,
)
from models.pdq import hash_batch, near_duplicate_of
from service.calibrate import distinct
from service.registration import WorkSource
from service.schemas import MatchResult

FMR = 0.01
AS_IS = "as is"
COPY_HEADERS = (
    "edit", "copies", "PDQ alone recall@1%FMR", "recall@1%FMR", "content match on the source",
    "content match on the source, upper within 0.1%", "upper within 1%",
    "content match|possible on the source",
)  # fmt: skip
NON_COPY_HEADERS = ("edit", "non-copies", "content match", "content match|possible")


def unseen_pictures(
    roots: Sequence[Path], skip: Sequence[str] = WALLPAPER_SETS
) -> list[tuple[str, Path]]:
    """(group, file), one file per picture under the wallpaper roots, outside the `skip`
    folders the copy set reads. A folder is one picture in several sizes and gives its largest
    file (KDE packages keep them in `NAME/contents/images/`, sway-backgrounds in one folder of
    crops and sizes); a file directly under a root is a picture of its own. The group, a
    registered picture's creator, is the root's name, with the folder's for a plain folder."""
    found: list[tuple[str, Path]] = []
    for root in (r for r in roots if r.is_dir()):
        for entry in sorted(root.iterdir()):
            kde = entry / "contents" / "images"
            if entry.is_dir() and (kde.is_dir() or entry.name not in skip):
                files = [p for p in (kde if kde.is_dir() else entry).rglob("*") if _raster(p)]
                group = root.name if kde.is_dir() else f"{root.name}-{entry.name}"
                if files:
                    found.append((group, max(files, key=lambda p: (p.stat().st_size, p.name))))
            elif _raster(entry):
                found.append((root.name, entry))
    return found


def picture_name(path: Path) -> str:
    """A wallpaper file's picture: its KDE package's folder (the file is named by its size),
    else the file's stem."""
    parts = path.parts
    return parts[parts.index("contents") - 1] if "contents" in parts[1:] else path.stem


def _raster(path: Path) -> bool:
    return path.suffix.lower() in RASTER and path.is_file()


def halves(n: int, seed: int) -> tuple[list[int], list[int]]:
    """A seeded split of n pictures: the registered half and the other half (sorted)."""
    picked = set(random.Random(f"{seed}:unseen-split").sample(range(n), n // 2))
    return sorted(picked), sorted(set(range(n)) - picked)


def edited(
    images: Sequence[Image.Image], seed: int, edits: Mapping[str, Edit] = EDITS, as_is: bool = True
) -> tuple[list[Image.Image], list[str]]:
    """Each image as is (unless not `as_is`) and under every edit (seeded per image and
    edit), with edit names."""
    out, labels = [], []
    for i, img in enumerate(images):
        if as_is:
            out.append(img)
            labels.append(AS_IS)
        for name, edit in edits.items():
            out.append(edit(img, random.Random(f"{seed}:{i}:{name}")))
            labels.append(name)
    return out, labels


def copy_recall_rows(
    labels: Sequence[str],
    truth: Sequence[str],
    copies: Sequence[MatchResult],
    found: Predictions,
    negatives: Predictions,
    pdq: tuple[Predictions, Predictions],
) -> list[list[Any]]:
    """Per edit and overall: copies, recall at FMR against the non-copies' top-1 scores of
    PDQ alone (`pdq`: copies' and non-copies' top-1) and of the product, and the shares whose
    content verdict is `match` with the true source first (also those whose `upper`, the
    rate on the calibration's measured counts alone, is within `match`'s rate too, or within
    `possible`'s), or not `none`."""
    rows = []
    for name, sel in by_label(labels):
        correct = np.array([found.sources[k] == truth[k] for k in sel])
        pdq_correct = np.array([pdq[0].sources[k] == truth[k] for k in sel])
        verdicts = np.array([copies[k].content.verdict for k in sel])
        upper = np.array([copies[k].content.upper for k in sel])
        rates = [copies[k].thresholds for k in sel]
        alone = upper <= np.array([t.match for t in rates])
        alone_possible = upper <= np.array([t.possible for t in rates])
        rows.append(
            [
                name,
                len(sel),
                recall_at_fmr(pdq[0].scores[sel], pdq_correct, pdq[1].scores, FMR),
                recall_at_fmr(found.scores[sel], correct, negatives.scores, FMR),
                float(np.mean(correct & (verdicts == "match"))),
                float(np.mean(correct & (verdicts == "match") & alone)),
                float(np.mean(correct & (verdicts == "match") & alone_possible)),
                float(np.mean(correct & (verdicts != "none"))),
            ]
        )
    return rows


def non_copy_rows(labels: Sequence[str], results: Sequence[MatchResult]) -> list[list[Any]]:
    """Per edit and overall: non-copies, and the shares given a content `match` (or not
    `none`): each is a false match."""
    return [
        [
            name,
            len(sel),
            float(np.mean([results[k].content.verdict == "match" for k in sel])),
            float(np.mean([results[k].content.verdict != "none" for k in sel])),
        ]
        for name, sel in by_label(labels)
    ]


def cut_setters(
    negative_scores: NDArray[np.floating], pictures: Sequence[str], fmr: float = FMR
) -> str:
    """What sets the cut at `fmr`: the non-copies it lets through and the next one, and how
    many distinct pictures they are edits of (a picture's edits score alike, so one
    picture's edits can set the cut for every copy)."""
    let_through = int(np.floor(fmr * len(negative_scores)))
    top = np.argsort(-np.asarray(negative_scores, np.float64), kind="stable")[: let_through + 1]
    names = list(dict.fromkeys(pictures[k] for k in top))
    shown = ", ".join(f"`{n}`" for n in names[:3]) + (", ..." if len(names) > 3 else "")
    return (
        f"The product's cut is set by the {len(top)} highest-scoring of the "
        f"{len(negative_scores)} non-copies ({let_through} let through, and the next): "
        f"edits of {len(names)} distinct picture{'s' if len(names) != 1 else ''} ({shown})."
    )


def tables_text(
    copies: tuple[str, str],
    non_copies: str,
    copy_table: list[list[Any]],
    non_copy_table: list[list[Any]],
    setters: str,
) -> list[str]:
    """The copy and non-copy tables with what they count: `copies` names the copies and the
    scores the 1% cut is set on, `non_copies` the non-copies, `setters` what sets the cut."""
    return [
        f"{copies[0]} (recall at 1% false-match rate is set on the {copies[1]}; PDQ alone "
        "ranks every registered work by its smallest distance over the query's 8 flips and "
        f"quarter turns). {setters}",
        table(COPY_HEADERS, copy_table),
        f"{non_copies}: every content `match` is a false match (the calibration claims 0.1% "
        "for `match` and 1% for `match|possible` per query):",
        table(NON_COPY_HEADERS, non_copy_table),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--seed", type=int, default=0)
    profile_arg(parser)
    args = parser.parse_args(argv)
    name = profile_name(parser, args.profile)
    started = time.perf_counter()
    dev = build_copy_dev(args.cache)
    files = unseen_pictures(CopyRoots().wallpaper)
    if len(files) < 4:
        parser.error("too few wallpapers outside the copy set's folders: install the packages")
    pictures = []
    for _, path in files:
        with Image.open(path) as img:
            pictures.append(flatten(img, SOURCE_SIZE))
    keep = distinct(pictures)
    gallery = [Image.open(i.path).convert("RGB") for i in dev.references]  # then the half below
    sources = hash_batch(gallery)
    keep = [i for i in keep if near_duplicate_of(pictures[i], sources) is None]
    mine, others = halves(len(keep), args.seed)
    works = [WorkSource(creator_id(i.group), i.id, i.path) for i in dev.references]
    positives, pos_labels = edited([pictures[keep[i]] for i in mine], args.seed)
    negatives, neg_labels = edited([pictures[keep[i]] for i in others], args.seed + 1)
    per_picture = len(EDITS) + 1  # as is, then each edit
    truth = [f"unseen/{keep[mine[k // per_picture]]}" for k in range(len(positives))]
    with tempfile.TemporaryDirectory() as tmp:
        for i in mine:
            path = Path(tmp) / f"unseen-{keep[i]}.png"
            pictures[keep[i]].save(path)
            group = creator_id(f"unseen-{files[keep[i]][0]}")
            works.append(WorkSource(group, f"unseen/{keep[i]}", path))
        runtime = registered_runtime(Path(tmp) / "data", works, args.profile)
        copies, non_copies = match_all(runtime, positives, 5), match_all(runtime, negatives, 5)
    copy_top1, non_copy_top1 = product_top1(copies), product_top1(non_copies)
    gallery += [pictures[keep[i]] for i in mine]
    ids = [w.work_id for w in works]
    pdq = (
        top1(pdq_similarity(positives, gallery), ids),
        top1(pdq_similarity(negatives, gallery), ids),
    )
    negative_pictures = [
        picture_name(files[keep[others[k // per_picture]]][1]) for k in range(len(negatives))
    ]
    copy_table = copy_recall_rows(pos_labels, truth, copies, copy_top1, non_copy_top1, pdq)
    non_copy_table = non_copy_rows(neg_labels, non_copies)
    seconds = round(time.perf_counter() - started, 1)
    text = "\n\n".join(
        [
            "### Copy detection on an unseen domain: wallpapers no set or calibration reads",
            f"{len(keep)} pictures ({len(files)} files; {len(files) - len(keep)} near "
            f"duplicates of another or of a copy-set source dropped), split in halves: "
            f"{len(mine)} registered beside the copy set's {len(dev.references)} sources, "
            f"{len(others)} as non-copies; each as is and under the copy set's {len(EDITS)} "
            f"edits. Profile `{name}`, calibration fitted on drawings and glyphs. {seconds} s "
            f"on {machine()}; `python -m benchmarks.unseen_domain{profile_flag(name)}`.",
            *tables_text(
                ("Copies of the registered half", "non-copies' top-1 scores, as in the copy table"),
                "The other half",
                copy_table,
                non_copy_table,
                cut_setters(non_copy_top1.scores, negative_pictures),
            ),
        ]
    )
    write_section(
        profiled("unseen_domain", name), text, {"copies": copy_table, "non_copies": non_copy_table}
    )
    print(text)


if __name__ == "__main__":
    main()
