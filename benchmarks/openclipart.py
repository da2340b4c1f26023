"""Style-attribution dev set built from the Debian openclipart packages (0.18, public domain).

Each SVG in openclipart-svg names its artist in RDF metadata (dc:creator/cc:Agent/dc:title);
openclipart-png holds a rendering of the same drawing at the same relative path. Here live
the metadata reader, the creator-id normaliser, the scan, and the seeded split into a gallery
of registered creators, queries (their unseen works) and impostors (unregistered creators).
Image edits for copy detection live in `benchmarks.edits`, not here.
"""

from __future__ import annotations

import argparse
import csv
import html
import random
import re
import unicodedata
import warnings
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops

from models.pdq import hash_batch, near_duplicate_of

DEFAULT_ROOT = Path("/usr/share/openclipart")
_PROLOG_BYTES = 1 << 16
_MAX_SLUG = 40
# Placeholders and institutions/collections credited instead of a person: not a style.
_NOT_AN_ARTIST = frozenset(
    {
        "unknown", "anonymous", "anon", "none", "nn", "me", "na", "n-a", "u", "various",
        "openclipart", "openclipart-org", "open-clip-art-library", "open-clip-art",
        "public-domain", "unattributed", "international-code-of-signals", "royal-navy",
        "us-army", "galion-public-library", "galion-gbc", "open-sourced-gem-clipart",
    }
)  # fmt: skip
# Spellings of one artist that the generic normalisation cannot merge.
_ALIASES = {
    "architetto-francesco-rollandin": "francesco-rollandin",
    "rollandin-francesco": "francesco-rollandin",
    "andrew-fitzsimon": "andy-fitzsimon",
    # Nathan Eady's handle; his files share the same Inkscape docbase.
    "jonadab-the-unsightly-one": "nathan-eady",
    "jonadab": "nathan-eady",
}


@dataclass(frozen=True)
class ClipArt:
    """One openclipart drawing: creator id (slug), title, and its SVG and PNG files."""

    creator: str
    title: str
    svg: Path
    png: Path
    creator_name: str = ""  # dc:creator exactly as written, for credits

    @property
    def work_id(self) -> str:
        """Stable id of the work: `<creator>/<png stem>.png`."""
        return f"{self.creator}/{self.png.stem}.png"


@dataclass(frozen=True)
class StyleDevSet:
    """(creator id, image path) pairs of each split, plus the manifest that lists them all."""

    gallery: list[tuple[str, Path]]
    queries: list[tuple[str, Path]]
    impostors: list[tuple[str, Path]]
    manifest: Path
    train: list[tuple[str, Path]]  # creators with too few works to evaluate: for fitting heads


def creator_slug(name: str) -> str:
    """Normalise a dc:creator string to an id `[a-z0-9-]`; "" when it names no artist."""
    if re.fullmatch(r"HASH\(0x[0-9a-fA-F]+\)", name.strip()):  # a Perl ref leaked by an exporter
        return ""
    text = html.unescape(name)
    text = re.sub(r"\(.*?\)|\[.*?\]|<.*?>|https?://\S+|\S+@\S+", " ", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[.'`]", "", text)
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:_MAX_SLUG].strip("-")
    slug = _ALIASES.get(slug, slug)
    return "" if len(slug) < 2 or slug in _NOT_AN_ARTIST else slug


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _collect(event: str, elem: ET.Element, stack: list[str], found: dict[str, str]) -> bool:
    """Update the tag stack and found fields; True once the cc:Work element has closed."""
    if event == "start":
        stack.append(_local(elem.tag))
        return False
    name, text = stack.pop(), (elem.text or "").strip()
    if name == "title" and stack[-1:] == ["Work"]:
        found.setdefault("title", text)
    elif name == "title" and stack[-2:] == ["creator", "Agent"]:
        found.setdefault("creator", text)
    return name == "Work"


def read_svg_credit(svg: Path) -> tuple[str, str] | None:
    """(creator as written, title) from an SVG's RDF metadata; None if absent or unparsable.

    Files declaring entities are refused (as defusedxml does); ElementTree never fetches
    external entities or DTDs. Parsing stops as soon as the cc:Work element closes.
    """
    stack: list[str] = []
    found: dict[str, str] = {}
    try:
        with svg.open("rb") as fh:
            if b"<!ENTITY" in fh.read(_PROLOG_BYTES):
                return None
            fh.seek(0)
            for event, elem in ET.iterparse(fh, events=("start", "end")):
                if _collect(event, elem, stack, found):
                    break
    except ET.ParseError:
        return None
    if not found.get("creator"):
        return None
    return found["creator"], found.get("title", "")


def _png_loadable(png: Path) -> bool:
    """False for files Pillow refuses to open, such as renderings past its bomb limit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(png):
                return True
    except (OSError, Image.DecompressionBombError):
        return False


def _clip_for(svg: Path, png: Path) -> ClipArt | None:
    credit = read_svg_credit(svg)
    if credit is None or not _png_loadable(png):
        return None
    slug = creator_slug(credit[0])
    if not slug:
        return None
    return ClipArt(slug, credit[1] or png.stem, svg, png, credit[0])


def scan_openclipart(root: Path = DEFAULT_ROOT) -> list[ClipArt]:
    """All drawings with both files and a named artist, deduplicated, sorted by work id.

    PNG paths mirror SVG paths (`png/<rel>.png` for `svg/<rel>.svg`); the packages link
    duplicate drawings across categories, so files are keyed by their resolved path and,
    within a creator, by file stem.
    """
    by_id: dict[str, ClipArt] = {}
    seen: set[Path] = set()
    for svg in sorted((root / "svg").rglob("*.svg")):
        png = root / "png" / svg.relative_to(root / "svg").with_suffix(".png")
        real = svg.resolve()
        if real in seen or not png.is_file():
            continue
        seen.add(real)
        clip = _clip_for(real, png.resolve())
        if clip is not None:
            by_id.setdefault(clip.work_id, clip)
    return [by_id[key] for key in sorted(by_id)]


def load_on_white(path: Path, size: int) -> Image.Image:
    """A clip-art PNG flattened to RGB on white, trimmed to the drawing, long side = size."""
    with warnings.catch_warnings():
        # Package files are trusted; a few are renderings of ~170 Mpx.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as src:
            rgba = src.convert("RGBA")
    factor = max(rgba.size) // (2 * size)
    if factor > 1:  # box-reduce premultiplied, so transparent pixels leave no dark fringe
        rgba = rgba.convert("RGBa").reduce(factor).convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, rgba).convert("RGB")
    bbox = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox()
    if bbox is not None:
        rgb = rgb.crop(bbox)
    scale = size / max(rgb.size)
    new_size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    return rgb.resize(new_size, Image.Resampling.LANCZOS)


def _render_cached(clip: ClipArt, dest: Path, size: int) -> Path:
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".tmp")
        load_on_white(clip.png, size).save(tmp, format="PNG", optimize=True)
        tmp.replace(dest)
    return dest


def _seeded_split(items: list[str], fraction: float, key: str) -> tuple[list[str], list[str]]:
    """Shuffle sorted items with a string-keyed RNG; given two or more, neither side is empty."""
    shuffled = sorted(items)
    random.Random(key).shuffle(shuffled)
    cut = min(max(1, round(fraction * len(shuffled))), len(shuffled) - 1)
    return sorted(shuffled[:cut]), sorted(shuffled[cut:])


def eligible_works(
    clips: list[ClipArt], min_works: int, max_works: int, seed: int, below: int | None = None
) -> dict[str, list[ClipArt]]:
    """Creators with >= min_works (and < below) drawings, each capped to a seeded sample of
    max_works."""
    by_creator: dict[str, list[ClipArt]] = defaultdict(list)
    for clip in clips:
        by_creator[clip.creator].append(clip)
    chosen: dict[str, list[ClipArt]] = {}
    for creator, works in sorted(by_creator.items()):
        if min_works <= len(works) < (below or len(works) + 1):
            rng = random.Random(f"{seed}:cap:{creator}")
            sample = rng.sample(works, min(max_works, len(works)))
            chosen[creator] = sorted(sample, key=lambda c: c.work_id)
    return chosen


def _assign_splits(
    works: dict[str, list[ClipArt]], seed: int, registered: float, gallery: float
) -> list[tuple[ClipArt, str]]:
    members, outsiders = _seeded_split(list(works), registered, f"{seed}:creators")
    rows = [(clip, "impostor") for creator in outsiders for clip in works[creator]]
    for creator in members:
        ids = {clip.work_id: clip for clip in works[creator]}
        shown, held = _seeded_split(list(ids), gallery, f"{seed}:works:{creator}")
        rows += [(ids[i], "gallery") for i in shown] + [(ids[i], "query") for i in held]
    return rows


def near_copies(paths: list[Path], splits: list[str]) -> list[bool]:
    """Which query and impostor drawings are near-duplicates (PDQ <= 31 under any flip or
    quarter turn) of a gallery drawing: the packages hold recolours and mirrored variants
    saved as separate works, which are copies of a registered work, not new works."""
    gallery = [p for p, s in zip(paths, splits, strict=True) if s == "gallery"]
    if not gallery:
        return [False] * len(paths)
    codes = hash_batch([Image.open(p).convert("RGB") for p in gallery])
    return [
        split in ("query", "impostor")
        and near_duplicate_of(Image.open(p).convert("RGB"), codes) is not None
        for p, split in zip(paths, splits, strict=True)
    ]


def build_style_dev(
    cache_dir: Path,
    min_works: int = 10,
    seed: int = 0,
    size: int = 256,
    *,
    max_works: int = 40,
    registered_fraction: float = 0.7,
    gallery_fraction: float = 0.7,
    train_min_works: int = 3,
    root: Path = DEFAULT_ROOT,
) -> StyleDevSet:
    """Render, split and list the style dev set under `cache_dir/openclipart/`.

    Splits are by creator (registered vs impostor) and, inside registered creators, by work
    (gallery vs query); each is keyed by seed and name, so one creator's split does not move
    when another creator is added. Creators with train_min_works..min_works-1 drawings form
    the `train` split: never evaluated, so a head fitted on them meets only unseen creators.
    Rendered images are reused when already present; their path does not encode `size`, so
    use a fresh cache_dir for another size.
    """
    clips = scan_openclipart(root)
    works = eligible_works(clips, min_works, max_works, seed)
    trainers = eligible_works(clips, train_min_works, max_works, seed, below=min_works)
    rows = _assign_splits(works, seed, registered_fraction, gallery_fraction)
    rows += [(clip, "train") for creator in sorted(trainers) for clip in trainers[creator]]
    out_dir = cache_dir / "openclipart"
    splits: dict[str, list[tuple[str, Path]]] = {
        "gallery": [], "query": [], "impostor": [], "train": []
    }  # fmt: skip
    manifest = out_dir / "manifest.csv"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [_render_cached(clip, out_dir / clip.work_id, size) for clip, _ in rows]
    copies = near_copies(paths, [split for _, split in rows])
    with manifest.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["creator_id", "work_id", "path", "split"])
        for (clip, split), path, copy in zip(rows, paths, copies, strict=True):
            split = "near_copy" if copy else split
            if not copy:
                splits[split].append((clip.creator, path))
            relative = path.relative_to(out_dir).as_posix()
            writer.writerow([clip.creator, clip.work_id, relative, split])
    return StyleDevSet(
        splits["gallery"], splits["query"], splits["impostor"], manifest, splits["train"]
    )


def main(argv: list[str] | None = None) -> None:
    """CLI: build the dev set and print its counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--min-works", type=int, default=10)
    parser.add_argument("--max-works", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args(argv)
    clips = scan_openclipart(args.root)
    eligible = eligible_works(clips, args.min_works, 10**9, args.seed)
    dev = build_style_dev(
        args.cache, args.min_works, args.seed, args.size, max_works=args.max_works, root=args.root
    )
    print(f"drawings with a named artist: {len(clips)} by {len({c.creator for c in clips})}")
    print(f"creators with >= {args.min_works} works: {len(eligible)}")
    print(f"  their works: {sum(map(len, eligible.values()))} (capped at {args.max_works} each)")
    for name, pairs in (("gallery", dev.gallery), ("queries", dev.queries)):
        print(f"{name}: {len(pairs)} images, {len({c for c, _ in pairs})} creators")
    for name, pairs in (("impostors", dev.impostors), ("train", dev.train)):
        print(f"{name}: {len(pairs)} images, {len({c for c, _ in pairs})} creators")
    print(f"manifest: {dev.manifest}")


if __name__ == "__main__":
    main()
