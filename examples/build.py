"""Regenerate examples/: a six-artist sample gallery, suspect images, their labels and credits.

Run from the repository root with the Debian packages openclipart-png and openclipart-svg
installed: `python -m examples.build`. The works are picked by hand (listed below) so that the
six styles differ plainly; the output is the same on every run. The gallery lives in
`examples/gallery/<creator_id>/<name>.png`, suspects in `examples/suspects/`, the ground
truth in `examples/suspects.csv` and attribution in `examples/CREDITS.md`.
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image, ImageOps

from benchmarks.edits import EDITS
from benchmarks.openclipart import DEFAULT_ROOT, ClipArt, load_on_white, scan_openclipart

EXAMPLES = Path(__file__).resolve().parent
SIZE = 256
# creator id -> (png stem, gallery name); one style per artist.
GALLERY: dict[str, list[tuple[str, str]]] = {
    "jean-victor-balin": [  # flat black pictograms (AIGA symbol signs)
        ("aiga_air_transportation1", "airport"), ("aiga_bus1", "bus"),
        ("aiga_coffee_shop1", "coffee-shop"), ("aiga_mail1", "mail"),
        ("aiga_restaurant1", "restaurant"),
    ],
    "gerald-g": [  # black-and-white line art
        ("baseball_glove_bw_ganson", "baseball-glove"), ("corn_cob_bw", "corn-on-the-cob"),
        ("hamburger_bw", "hamburger"), ("pizza_pepperoni_bw", "pepperoni-pizza"),
        ("teacup_bw", "teacup"),
    ],
    "andy-fitzsimon": [  # soft photo-like shading (Etiquette icons)
        ("4wd", "four-wheel-drive"), ("coffee", "coffee-cup"), ("dolphin", "dolphin"),
        ("gnome-dev-cdrom", "cd-rom"), ("seal", "seal"),
    ],
    "juliane-krug": [  # glossy gold icons with heavy outline
        ("70a001", "gold-folder"), ("70a004", "gold-envelope"), ("70a010", "gold-pencil"),
        ("70a019", "gold-house"), ("70a029", "gold-money"),
    ],
    "jose-hevia": [  # saturated yellow-green icons (Lemon theme)
        ("clanbomber", "bomb"), ("favorites", "heart"), ("find", "magnifier"),
        ("kdisknav", "lightning"), ("trashcan_empty", "bin"),
    ],
    "zazou": [  # sketchy hand-drawn outlines with pastel fills
        ("classic_phone_zazou", "telephone"), ("computer_zazou", "computer"),
        ("residential_house_zazou", "house"), ("router_zazou", "router"),
        ("satellite_hub_zazou", "satellite-hub"),
    ],
}  # fmt: skip
# (suspect file, creator id, gallery name or unseen png stem, edits applied in order)
EDITED = [
    ("suspect_01.png", "juliane-krug", "gold-envelope", ("crop50", "jpeg")),
    ("suspect_04.png", "jose-hevia", "heart", ("screenshot",)),
    ("suspect_07.png", "andy-fitzsimon", "four-wheel-drive", ("colour_jitter", "text_overlay")),
]
# (suspect file, creator id, png stem of a work left out of the gallery)
UNSEEN = [
    ("suspect_02.png", "gerald-g", "hot_dog_bw"),
    ("suspect_05.png", "zazou", "tv_zazou"),
    ("suspect_08.png", "jean-victor-balin", "aiga_taxi1"),
]
UNRELATED = [("suspect_03.png", "coffee"), ("suspect_06.png", "chelsea")]
SKIMAGE_CREDITS = {
    "coffee": "coffee cup photo courtesy of Pikolo Espresso Bar; CC0 by the photographer "
    "(Rachel Michetti)",
    "chelsea": "Chelsea the cat; CC0 by the photographer (Stefan van der Walt)",
}


@dataclass(frozen=True)
class Suspect:
    """One row of suspects.csv plus the provenance line for CREDITS.md."""

    path: str
    kind: str
    creator_id: str
    work_id: str
    credit: str


def _clip_index(root: Path) -> dict[tuple[str, str], ClipArt]:
    return {(clip.creator, clip.png.stem): clip for clip in scan_openclipart(root)}


def _credit(clip: ClipArt, root: Path) -> str:
    source = clip.png.relative_to(root / "png").with_suffix("").as_posix()
    name = re.sub(r"\s*\([^)]*@[^)]*\)", "", clip.creator_name)  # no e-mail addresses
    return f'{name}, "{clip.title}", openclipart 0.18 `{source}.svg/.png`'


def _save(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.convert("RGB").save(path, format="PNG", optimize=True)


def build_gallery(clips: dict[tuple[str, str], ClipArt], root: Path) -> list[tuple[str, str]]:
    """Write the gallery; return (work id, credit) per file."""
    credits = []
    for creator, works in GALLERY.items():
        for stem, name in works:
            clip = clips[(creator, stem)]
            _save(load_on_white(clip.png, SIZE), EXAMPLES / "gallery" / creator / f"{name}.png")
            credits.append((f"{creator}/{name}.png", _credit(clip, root)))
    return credits


def _edited(clips: dict[tuple[str, str], ClipArt], root: Path) -> list[Suspect]:
    suspects = []
    for filename, creator, name, edits in EDITED:
        work_id = f"{creator}/{name}.png"
        stem = next(stem for stem, gallery_name in GALLERY[creator] if gallery_name == name)
        rng = random.Random(f"examples:{filename}")
        with Image.open(EXAMPLES / "gallery" / work_id) as source:
            img = source.convert("RGB")
        for edit in edits:
            img = EDITS[edit](img, rng)
        _save(img, EXAMPLES / "suspects" / filename)
        note = f"edited copy ({' + '.join(edits)}) of `gallery/{work_id}`: "
        note += _credit(clips[(creator, stem)], root)
        suspects.append(Suspect(f"suspects/{filename}", "edited_copy", creator, work_id, note))
    return suspects


def _unseen(clips: dict[tuple[str, str], ClipArt], root: Path) -> list[Suspect]:
    suspects = []
    for filename, creator, stem in UNSEEN:
        clip = clips[(creator, stem)]
        _save(load_on_white(clip.png, SIZE), EXAMPLES / "suspects" / filename)
        note = f"unseen work: {_credit(clip, root)}"
        suspects.append(Suspect(f"suspects/{filename}", "unseen_work", creator, "", note))
    return suspects


def _unrelated() -> list[Suspect]:
    suspects = []
    for filename, name in UNRELATED:
        pixels: np.ndarray = getattr(skimage.data, name)()
        img = ImageOps.contain(Image.fromarray(pixels).convert("RGB"), (SIZE, SIZE))
        _save(img, EXAMPLES / "suspects" / filename)
        note = f"scikit-image `skimage.data.{name}()`: {SKIMAGE_CREDITS[name]}"
        suspects.append(Suspect(f"suspects/{filename}", "unrelated", "", "", note))
    return suspects


def _prune(folder: Path, keep: set[Path]) -> None:
    """Delete PNGs (and emptied folders) a previous build wrote that this one does not."""
    for stale in sorted(set(folder.rglob("*.png")) - keep):
        stale.unlink()
    for sub in sorted(folder.iterdir()):
        if sub.is_dir() and not any(sub.iterdir()):
            sub.rmdir()


def _write_csv(suspects: list[Suspect]) -> None:
    with (EXAMPLES / "suspects.csv").open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["path", "kind", "creator_id", "work_id"])
        writer.writerows([s.path, s.kind, s.creator_id, s.work_id] for s in suspects)


def _write_credits(gallery: list[tuple[str, str]], suspects: list[Suspect]) -> None:
    lines = [
        "# Credits for the bundled examples",
        "",
        "Generated by `python -m examples.build`; do not edit by hand.",
        "",
        "Clip art comes from openclipart 0.18 as packaged by Debian (`openclipart-png`,",
        "`openclipart-svg`), dedicated to the public domain (Creative Commons Public Domain",
        "Dedication). Each line gives the creator as written in the SVG's `dc:creator`, the",
        "`dc:title`, and the source path under `/usr/share/openclipart/{png,svg}/`. Files were",
        f"flattened onto white, trimmed to the drawing and resized to a long side of {SIZE} px.",
        "",
        "## gallery/",
        "",
        *[f"- `gallery/{work_id}`: {credit}" for work_id, credit in gallery],
        "",
        "The AIGA symbol signs were designed by AIGA for the US Department of Transportation",
        "(1974, public domain); the files above are Jean-Victor Balin's vector drawings of them.",
        "",
        "## suspects/",
        "",
        *[f"- `{s.path}`: {s.credit}" for s in suspects],
        "",
    ]
    (EXAMPLES / "CREDITS.md").write_text("\n".join(lines))


def main(root: Path = DEFAULT_ROOT) -> None:
    """Rebuild every file under examples/ except this script."""
    clips = _clip_index(root)
    gallery = build_gallery(clips, root)
    suspects = sorted(
        _edited(clips, root) + _unseen(clips, root) + _unrelated(), key=lambda s: s.path
    )
    _prune(EXAMPLES / "gallery", {EXAMPLES / "gallery" / work_id for work_id, _ in gallery})
    _prune(EXAMPLES / "suspects", {EXAMPLES / s.path for s in suspects})
    _write_csv(suspects)
    _write_credits(gallery, suspects)
    print(f"gallery: {len(gallery)} works by {len(GALLERY)} creators; suspects: {len(suspects)}")


if __name__ == "__main__":
    main()
