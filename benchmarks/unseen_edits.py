"""Copy detection under edits nothing was fitted or measured on (`benchmarks.edits.HELD_OUT`:
stretch, keystone, noise, dithered palette, low-quality WebP, a small tilt cropped clean,
mirror and crop, stickers, a blurred square fill, an upscale with sharpening). A seeded
sample of the copy set's registered sources, under each held-out edit, are the copies; a
seeded sample of its distractors, each under one of the edits in turn, the non-copies (one
edit each: a picture's edits score alike, so ten edits of few pictures would let one
picture set the cut). It reports, per edit, recall
at 1% false-match rate against those non-copies for PDQ alone and for the product, and the
calibrated verdicts' rates on both (benchmarks/RESULTS.md, section unseen_edits).

    python -m benchmarks.unseen_edits --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image

from benchmarks.accuracy import creator_id, match_all, product_top1, registered_runtime, top1
from benchmarks.baselines import pdq_similarity
from benchmarks.copyset import build_copy_dev
from benchmarks.edits import HELD_OUT, Edit
from benchmarks.report import (
    machine,
    profile_arg,
    profile_flag,
    profile_name,
    profiled,
    write_section,
)
from benchmarks.unseen_domain import (
    copy_recall_rows,
    cut_setters,
    edited,
    non_copy_rows,
    tables_text,
)
from service.registration import WorkSource

PICTURES = 50  # registered sources, each under every held-out edit
DISTRACTORS = 500  # distractors, each under one held-out edit


def one_edit_each(
    images: Sequence[Image.Image], seed: int, edits: Mapping[str, Edit]
) -> tuple[list[Image.Image], list[str]]:
    """Image k under the edits' (k mod their number)-th, seeded as `edited` seeds it, with
    the edit names."""
    names = list(edits)
    labels = [names[k % len(names)] for k in range(len(images))]
    out = [
        edits[name](img, random.Random(f"{seed}:{k}:{name}"))
        for k, (img, name) in enumerate(zip(images, labels, strict=True))
    ]
    return out, labels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--seed", type=int, default=0)
    profile_arg(parser)
    parser.add_argument("--pictures", type=int, default=PICTURES)
    parser.add_argument("--distractors", type=int, default=DISTRACTORS)
    args = parser.parse_args(argv)
    name = profile_name(parser, args.profile)
    started = time.perf_counter()
    dev = build_copy_dev(args.cache)
    rng = random.Random(f"{args.seed}:unseen-edits")
    sources = rng.sample(dev.references, min(args.pictures, len(dev.references)))
    others = rng.sample(dev.distractors, min(args.distractors, len(dev.distractors)))
    gallery = [Image.open(i.path).convert("RGB") for i in dev.references]
    by_id = {item.id: img for item, img in zip(dev.references, gallery, strict=True)}
    copies, labels = edited([by_id[i.id] for i in sources], args.seed, HELD_OUT, as_is=False)
    non_copies, non_labels = one_edit_each(
        [Image.open(i.path).convert("RGB") for i in others], args.seed + 1, HELD_OUT
    )
    truth = [sources[k // len(HELD_OUT)].id for k in range(len(copies))]
    works = [WorkSource(creator_id(i.group), i.id, i.path) for i in dev.references]
    with tempfile.TemporaryDirectory() as tmp:
        runtime = registered_runtime(Path(tmp) / "data", works, args.profile)
        found, rejected = match_all(runtime, copies, 5), match_all(runtime, non_copies, 5)
    ids = [i.id for i in dev.references]
    # PDQ alone: each query's closest registered work by its smallest dihedral distance
    pdq = (
        top1(pdq_similarity(copies, gallery), ids),
        top1(pdq_similarity(non_copies, gallery), ids),
    )
    pictures = [i.id for i in others]
    negatives = product_top1(rejected)
    copy_table = copy_recall_rows(labels, truth, found, product_top1(found), negatives, pdq)
    non_copy_table = non_copy_rows(non_labels, rejected)
    seconds = round(time.perf_counter() - started, 1)
    text = "\n\n".join(
        [
            "### Copy detection under edits nothing was fitted on",
            f"{len(sources)} of the copy set's {len(dev.references)} registered sources, "
            f"each under the {len(HELD_OUT)} held-out edits of `benchmarks.edits.HELD_OUT`, "
            "which no dev set, training or calibration uses, and "
            f"{len(others)} of its {len(dev.distractors)} distractors, each under one of them "
            f"in turn (seeded). Profile `{name}`. {seconds} s on {machine()}; "
            f"`python -m benchmarks.unseen_edits{profile_flag(name)}`.",
            *tables_text(
                ("Copies of the registered sources", "edited distractors' top-1 scores"),
                "The edited distractors",
                copy_table,
                non_copy_table,
                cut_setters(negatives.scores, pictures),
            ),
        ]
    )
    write_section(
        profiled("unseen_edits", name), text, {"copies": copy_table, "non_copies": non_copy_table}
    )
    print(text)


if __name__ == "__main__":
    main()
