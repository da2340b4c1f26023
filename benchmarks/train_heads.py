"""Fit the linear heads of a profile: `make train-style` and `make train-content`.

Each head is a PCA + WCCN projection (models/projection.py) over frozen backbone vectors,
fitted on images the accuracy benchmark never evaluates:
- style: openclipart creators with too few works to be evaluated, and the font families
  reserved for training (label = creator or family);
- content: openclipart drawings outside the copy dev set and the style set's evaluated
  splits (and not PDQ near-copies of any of their images), each with seeded edited copies
  (label = the drawing), so that what varies between a work and its edited copies is
  whitened away. The edits are the benchmark's edit functions, with other seeds. Only
  clip art is available in bulk here: the copy set's photos, GCompris and Tux Paint images
  are all held out.
Writes the profile's .npz; run `make calibrate` afterwards, since the calibration is
versioned with the model id.

    python -m benchmarks.train_heads --head style --cache benchmarks/.cache
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from PIL import Image

from benchmarks.copyset import CopyRoots, build_copy_dev, clipart_candidates
from benchmarks.edits import EDITS
from benchmarks.fonts import build_font_dev
from benchmarks.openclipart import build_style_dev, load_on_white, scan_openclipart
from models.pdq import hash_batch, near_duplicate_of
from models.projection import fit_wccn, save_projection
from models.registry import PROFILE_DIR, create_embedder, load_profile
from service.calibrate import embed_all

MAX_HEAD_BYTES = 20 * 1024 * 1024
CONTENT_SIZE = 512  # long side of a training drawing, as the copy set normalises its sources


def style_training_set(cache: Path, fonts_per_family: int) -> tuple[list[str], list[Image.Image]]:
    """(style label, image) of every style training image: openclipart train creators and
    `fonts_per_family` glyphs of each training font family (labels prefixed by domain)."""
    clip = build_style_dev(cache)
    fonts = build_font_dev(cache)
    labels = [f"clip:{c}" for c, _ in clip.train]
    paths = [p for _, p in clip.train]
    seen: dict[str, int] = {}
    for glyph in fonts.train:
        if seen.get(glyph.family, 0) < fonts_per_family:
            seen[glyph.family] = seen.get(glyph.family, 0) + 1
            labels.append(f"font:{glyph.family}")
            paths.append(glyph.path)
    return labels, [Image.open(p).convert("RGB") for p in paths]


def content_training_set(
    cache: Path, drawings: int, edits_per_drawing: int, seed: int = 0
) -> tuple[list[str], list[Image.Image]]:
    """(drawing label, image): seeded openclipart drawings that neither the copy set nor
    the style set's evaluated splits (gallery, queries, impostors) use, none a PDQ near-copy
    of theirs, each as itself and with `edits_per_drawing` distinct seeded edits."""
    copy = build_copy_dev(cache, seed)
    style = build_style_dev(cache)
    held = [i.path for i in (*copy.calibration, *copy.references, *copy.distractors)]
    held += [i.path for i in copy.calibration_distractors]
    evaluated = [p for _, p in (*style.gallery, *style.queries, *style.impostors)]
    codes = hash_batch([Image.open(p).convert("RGB") for p in (*held, *evaluated)])
    style_ids = {p.relative_to(style.manifest.parent).as_posix() for p in evaluated}
    used = clipart_candidates(CopyRoots(), seed)
    clips = [c for c in scan_openclipart() if c.png not in used and c.work_id not in style_ids]
    rng = random.Random(f"{seed}:content-head")
    labels: list[str] = []
    images: list[Image.Image] = []
    for clip in rng.sample(clips, len(clips)):
        if len(set(labels)) == drawings:
            break
        img = load_on_white(clip.png, CONTENT_SIZE)
        if near_duplicate_of(img, codes) is not None:
            continue  # a near-copy of a benchmark image would leak it
        names = random.Random(f"{seed}:{clip.work_id}").sample(list(EDITS), edits_per_drawing)
        edited = [EDITS[e](img, random.Random(f"{seed}:{clip.work_id}:{e}")) for e in names]
        labels += [clip.work_id] * (1 + len(edited))
        images += [img, *edited]
    return labels, images


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--head", choices=("style", "content"), required=True)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--profile", default="default")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--shrinkage", type=float, default=None, help="style 0.2, content 0.1")
    parser.add_argument("--fonts-per-family", type=int, default=24)
    parser.add_argument("--drawings", type=int, default=1000)
    parser.add_argument("--edits-per-drawing", type=int, default=6)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    profile = load_profile(args.profile)
    spec = profile.style if args.head == "style" else profile.content
    if not spec.get("projection"):
        parser.error(f"profile {args.profile!r} has no {args.head} projection to fit")
    if args.head == "style":
        labels, images = style_training_set(args.cache, args.fonts_per_family)
        shrinkage = 0.2 if args.shrinkage is None else args.shrinkage
    else:
        labels, images = content_training_set(args.cache, args.drawings, args.edits_per_drawing)
        shrinkage = 0.1 if args.shrinkage is None else args.shrinkage
    base = create_embedder({k: v for k, v in spec.items() if k != "projection"})
    raw = embed_all(base, images)
    mean, matrix = fit_wccn(raw, labels, args.dim, shrinkage)
    out = PROFILE_DIR / spec["projection"]
    save_projection(out, mean, matrix)
    size = out.stat().st_size
    if size > MAX_HEAD_BYTES:
        raise SystemExit(f"{out}: {size} bytes, over the {MAX_HEAD_BYTES} limit for a head")
    print(
        f"{args.head} head {out} ({size / 1e6:.1f} MB, {raw.shape[1]} -> {matrix.shape[1]}) from "
        f"{len(images)} images of {len(set(labels))} labels in {time.perf_counter() - started:.0f}s"
    )


if __name__ == "__main__":
    main()
