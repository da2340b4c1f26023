r"""Style-attribution dev set "style-fonts": glyphs rendered from the Debian fonts-* families.

Style = font family, content = character (A-Z a-z 0-9). Here live the family-name normaliser,
the font scan with its face choice and missing-glyph check, the glyph renderer, and the seeded
split: families reserved for training, registered families (gallery characters registered,
the other characters as queries) and unregistered families (gallery characters as
cross-style queries, the other characters as impostors). Labels follow the copy set's
standard (PDQ near duplicate, `models.pdq.MATCH_DISTANCE`): families whose glyphs are near
duplicates for most characters are one design (a clone such as Hack of DejaVu Sans Mono), of
which only the first by name is used; a query-side glyph that is a near duplicate of a
registered glyph (an `l` drawn as the same bar as an `I`) is a copy, not a non-copy, and is
set aside. The fonts come from
`make dev-data-packages`, which installs, among the other benchmark packages:

    apt-get install -y --no-install-recommends \
        fonts-3270 fonts-adf-accanthis fonts-adf-baskervald fonts-adf-berenis \
        fonts-adf-gillius fonts-adf-ikarius fonts-adf-irianis fonts-adf-libris \
        fonts-adf-mekanus fonts-adf-oldania fonts-adf-romande fonts-adf-solothurn \
        fonts-adf-switzera fonts-adf-tribun fonts-adf-universalis fonts-adf-verana fonts-agave \
        fonts-allerta fonts-amiga fonts-anonymous-pro fonts-apropal fonts-arapey \
        fonts-averia-gwf fonts-averia-sans-gwf fonts-averia-serif-gwf fonts-b612 \
        fonts-bajaderka fonts-bebas-neue fonts-beteckna fonts-blankenburg fonts-breip \
        fonts-bwht fonts-cabin fonts-cabinsketch fonts-cantarell fonts-cardo \
        fonts-century-catalogue fonts-cherrybomb fonts-clear-sans fonts-cmu fonts-comfortaa \
        fonts-comic-neue fonts-compagnon fonts-courier-prime fonts-crosextra-caladea \
        fonts-crosextra-carlito fonts-dancingscript fonts-dejavu-core fonts-dkg-handwriting \
        fonts-dosis fonts-dustin fonts-ebgaramond fonts-ecolier-court fonts-elstob \
        fonts-engadget fonts-essays1743 fonts-eurofurence fonts-f500 fonts-fantasma \
        fonts-fantasque-sans fonts-fanwood fonts-femkeklaver fonts-ferrite-core fonts-firacode \
        fonts-freefont-ttf fonts-gamaliel fonts-gfs-didot fonts-gfs-neohellenic \
        fonts-gnutypewriter fonts-go fonts-gotico-antiqua fonts-goudybookletter fonts-hack \
        fonts-havana fonts-hermit fonts-humor-sans fonts-inconsolata fonts-inter \
        fonts-isabella fonts-jetbrains-mono fonts-joscelyn fonts-junction fonts-junicode \
        fonts-jura fonts-karla fonts-kaushanscript fonts-klaudia-berenika fonts-kristi \
        fonts-lato fonts-le-murmure fonts-league-mono fonts-league-spartan fonts-leckerli-one \
        fonts-liberation2 fonts-lindenhill fonts-linuxlibertine fonts-lobstertwo fonts-manrope \
        fonts-millimetre fonts-monofur fonts-mononoki fonts-national-park fonts-ocr-a \
        fonts-ocr-b fonts-okolaks fonts-oldstandard fonts-open-sans fonts-opendin \
        fonts-opendyslexic fonts-oxygen fonts-play fonts-prociono fonts-quattrocento \
        fonts-quicksand fonts-radisnoir fonts-rampart fonts-roadgeek fonts-roboto-slab \
        fonts-roboto-unhinted fonts-rocknroll fonts-routed-gothic fonts-rufscript \
        fonts-sil-andika fonts-sil-charis fonts-sil-gentium fonts-sixtyfour fonts-sjfonts \
        fonts-solide-mirage fonts-sora fonts-staypuft fonts-stick fonts-stix fonts-summersby \
        fonts-tiresias fonts-tomsontalks fonts-train fonts-triod-postnaja fonts-tuffy \
        fonts-urw-base35 fonts-vollkorn fonts-yanone-kaffeesatz
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import string
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from models.pdq import MATCH_DISTANCE, PDQ_BYTES, hash_batch, near_duplicate_of

DEFAULT_ROOT = Path("/usr/share/fonts")
CHARSET = string.ascii_uppercase + string.ascii_lowercase + string.digits
FONT_SUFFIXES = frozenset({".ttf", ".otf"})
RENDER_SCALE = 4  # glyphs are drawn at this many times the output size, then downscaled
INK_FILL = 0.8  # the glyph's long side, as a fraction of the canvas
SPLITS = ("train", "gallery", "query", "cross_style", "impostor")
QUERY_SPLITS = ("query", "cross_style", "impostor")  # compared with the registered glyphs
_PROBE_SIZE = 48
_NOTDEF_PROBES = ("\uffff", "\u0378")  # a non-character and an unassigned code point
# How far a face is from the family's plain upright text face; unknown words cost 2.
_WORD_COST = {
    **dict.fromkeys(["regular", "book", "roman", "normal", "plain", "standard", "upright"], 0),
    **dict.fromkeys(["medium", "extra", "ultra"], 1),
    "semi": -1,
    **dict.fromkeys(["light", "condensed", "cond", "narrow", "compressed", "extended"], 3),
    **dict.fromkeys(["expanded", "wide"], 3),
    **dict.fromkeys(["bold", "demi", "thin", "hairline", "black", "heavy", "extrablack"], 4),
    **dict.fromkeys(["italic", "oblique", "slanted", "inclined", "cursive", "kursiv"], 5),
}
# Trailing words of a family name that name a face, a width or a variant, not a design.
_SUFFIXES = frozenset(_WORD_COST) - {"book", "roman", "standard", "cursive", "kursiv"}
_SUFFIXES |= {"half", "std", "no2", "no3", "alt", "o", "z"}
# Families whose "letters" are symbols, or letters in boxes, or decorated initials only.
_NOT_TEXT = re.compile(
    r"symbol|dingbat|wingding|emoji|(^|-)(math|ornaments?|keyboard|initials)(-|$)"
    r"|^d050000l$|^stix(integrals|size|variants|nonunicode)"
)
# Clones and variants of one design, which would otherwise face each other across splits.
_ALIASES = {
    "freesans": "nimbus-sans",  # GNU FreeFont derives from the URW Nimbus fonts
    "freeserif": "nimbus-roman",
    "freemono": "nimbus-mono-ps",
    "stixgeneral": "stix",
    "fanwood-text": "fanwood",
    "inter-display": "inter",
    "linux-libertine-display": "linux-libertine",
    "irianis-adf-style": "irianis-adf",
    "romande-adf-style": "romande-adf",
    "mekanus-adf-titling": "mekanus-adf",
    "anonymous-pro-minus": "anonymous-pro",
    "karla-tamil": "karla",
    "courier-prime-code": "courier-prime",
    "opendyslexicalta": "opendyslexic",
    "go-smallcaps": "go",
    "betecknags": "beteckna",
    "cabinsketch": "cabin-sketch",
    "eurofurence-classic": "eurofurence",
}
_ALIAS_PREFIXES = ("roadgeek-2014", "tiresias", "cmu-serif", "cmu-typewriter-text", "museum")


@dataclass(frozen=True)
class FontFace:
    """One font file: the family id it belongs to, its own family and style names."""

    family: str
    name: str
    style: str
    path: Path


@dataclass(frozen=True)
class Glyph:
    """One rendered character of one family."""

    family: str
    char: str
    path: Path


@dataclass(frozen=True)
class FontDevSet:
    """The glyphs of each split, plus the manifest that lists them all; `duplicates` holds, per
    query split, the glyphs set aside as near duplicates of a registered glyph, and `clones`
    maps each family left out as a clone to the family kept for its design."""

    train: list[Glyph]
    gallery: list[Glyph]
    queries: list[Glyph]
    cross_style: list[Glyph]
    impostors: list[Glyph]
    manifest: Path
    duplicates: dict[str, list[Glyph]] = field(default_factory=dict)
    clones: dict[str, str] = field(default_factory=dict)


def _words(name: str) -> list[str]:
    """Lower-case ASCII words of a name, with CamelCase face words split off ("OCRABold")."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words: list[str] = []
    for token in re.findall(r"[A-Za-z0-9]+", re.sub(r"['`]", "", text)):
        tail: list[str] = []
        while (m := re.fullmatch(r"(.*[A-Za-z0-9])([A-Z][a-z0-9]*)", token)) and (
            m[2].lower() in _SUFFIXES
        ):
            token, tail = m[1], [m[2], *tail]
        words += [word.lower() for word in (token, *tail)]
    return words


def family_slug(name: str) -> str:
    """Family id `[a-z0-9-]` of a font's family name: face, width and variant words dropped."""
    words = _words(name)
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    slug = "-".join(words)
    for prefix in _ALIAS_PREFIXES:
        if slug.startswith(f"{prefix}-"):
            return prefix
    return _ALIASES.get(slug, slug)


def is_text_family(name: str) -> bool:
    """False for symbol, dingbat, maths and keycap fonts, whose letters are not letters."""
    return _NOT_TEXT.search("-".join(_words(name))) is None


def face_rank(face: FontFace) -> tuple[int, int, str]:
    """Sort key of a family's faces: plain upright text first, by names, then file, then path."""
    cost = sum(_WORD_COST.get(word, 2) for word in _words(f"{face.name} {face.style}"))
    file_cost = sum(_WORD_COST.get(word, 2) for word in _words(face.path.stem))
    return cost, file_cost, face.path.as_posix()


def scan_faces(roots: Sequence[Path] = (DEFAULT_ROOT,)) -> list[FontFace]:
    """Every TrueType/OpenType file under the roots that Pillow can open, sorted by path."""
    faces: dict[Path, FontFace] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            real = path.resolve()
            if path.suffix.lower() not in FONT_SUFFIXES or real in faces or not real.is_file():
                continue
            try:
                name, style = load_font(real, _PROBE_SIZE).getname()
            except OSError:
                continue
            if name and (family := family_slug(name)):
                faces[real] = FontFace(family, name, style or "", real)
    return sorted(faces.values(), key=lambda face: face.path)


def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """A font file at a pixel size, laid out without complex shaping (one glyph per char)."""
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


def glyph_mask(font: ImageFont.FreeTypeFont, char: str) -> Image.Image:
    """The character drawn white on black ("L"), cropped to the box the font reports."""
    left, top, right, bottom = (round(v) for v in font.getbbox(char))
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)))
    ImageDraw.Draw(mask).text((-left, -top), char, font=font, fill=255)
    return mask


def is_missing(mask: Image.Image, notdefs: Sequence[Image.Image]) -> bool:
    """True when a glyph has no ink or is the font's .notdef glyph drawn for unknown chars."""
    if mask.getbbox() is None:
        return True
    return any(mask.size == box.size and mask.tobytes() == box.tobytes() for box in notdefs)


def missing_chars(path: Path) -> str:
    """The characters of CHARSET the font cannot draw; all of them if it fails to render."""
    try:
        font = load_font(path, _PROBE_SIZE)
        notdefs = [glyph_mask(font, probe) for probe in _NOTDEF_PROBES]
        return "".join(c for c in CHARSET if is_missing(glyph_mask(font, c), notdefs))
    except OSError:  # FreeType refuses some broken glyph programs only when drawing
        return CHARSET


def choose_faces(
    faces: Sequence[FontFace], usable: Callable[[FontFace], bool]
) -> dict[str, FontFace]:
    """One face per family: the best-ranked usable one; families with none are left out."""
    chosen: dict[str, FontFace] = {}
    for face in sorted(faces, key=face_rank):
        if face.family not in chosen and usable(face):
            chosen[face.family] = face
    return dict(sorted(chosen.items()))


def usable_fonts(roots: Sequence[Path] = (DEFAULT_ROOT,)) -> dict[str, FontFace]:
    """Family id -> face for every text family under the roots that draws all of CHARSET."""
    faces = [face for face in scan_faces(roots) if is_text_family(face.name)]
    return choose_faces(faces, lambda face: not missing_chars(face.path))


def fit_glyph(mask: Image.Image, size: int, fill: float = INK_FILL) -> Image.Image:
    """Black-on-white RGB square: the mask's ink trimmed, scaled to `fill` of it, centred."""
    canvas = Image.new("RGB", (size, size), "white")
    bbox = mask.getbbox()
    if bbox is None:
        return canvas
    ink = mask.crop(bbox)
    scale = fill * size / max(ink.size)
    shape = (max(1, round(ink.width * scale)), max(1, round(ink.height * scale)))
    ink = ink.resize(shape, Image.Resampling.LANCZOS)
    canvas.paste((0, 0, 0), ((size - ink.width) // 2, (size - ink.height) // 2), ink)
    return canvas


def _render_cached(font: ImageFont.FreeTypeFont, char: str, dest: Path, size: int) -> Path:
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".tmp")
        fit_glyph(glyph_mask(font, char), size).save(tmp, format="PNG", optimize=True)
        tmp.replace(dest)
    return dest


def family_groups(
    families: Sequence[str], seed: int, train_fraction: float, unregistered_fraction: float
) -> dict[str, str]:
    """Family -> "train" | "registered" | "unregistered", drawn per family from its own key."""
    groups: dict[str, str] = {}
    for family in families:
        draw = random.Random(f"{seed}:family:{family}").random()
        if draw < train_fraction:
            groups[family] = "train"
        elif draw >= 1 - unregistered_fraction:
            groups[family] = "unregistered"
        else:
            groups[family] = "registered"
    return groups


def gallery_chars(seed: int, gallery_fraction: float) -> tuple[str, str]:
    """(gallery, query) characters, the same for every family; each keeps CHARSET order."""
    count = min(max(1, round(gallery_fraction * len(CHARSET))), len(CHARSET) - 1)
    shown = set(random.Random(f"{seed}:characters").sample(CHARSET, count))
    return "".join(c for c in CHARSET if c in shown), "".join(c for c in CHARSET if c not in shown)


def glyph_splits(groups: dict[str, str], shown: str, held: str) -> dict[str, list[tuple[str, str]]]:
    """Family -> its (char, split) pairs; the splits are those of SPLITS."""
    by_group = {
        "train": [(CHARSET, "train")],
        "registered": [(shown, "gallery"), (held, "query")],
        "unregistered": [(shown, "cross_style"), (held, "impostor")],
    }
    return {
        family: [(char, split) for chars, split in by_group[group] for char in chars]
        for family, group in sorted(groups.items())
    }


def same_designs(codes: dict[str, NDArray[np.uint8]]) -> dict[str, str]:
    """Family -> the family kept for its design: itself, or the first by name of the families
    linked to it by a median same-character PDQ distance within MATCH_DISTANCE.

    `codes` maps each family to its [len(CHARSET), 32] packed hashes, in CHARSET order.
    """
    names = sorted(codes)
    bits = np.stack([np.unpackbits(codes[name], axis=1) for name in names]).astype(np.int16)
    root = list(range(len(names)))

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    for i in range(len(names)):
        medians = np.median(np.abs(bits[i + 1 :] - bits[i]).sum(axis=2), axis=1)
        for j in np.flatnonzero(medians <= MATCH_DISTANCE) + i + 1:
            a, b = sorted((find(i), find(int(j))))
            root[b] = a
    return {name: names[find(i)] for i, name in enumerate(names)}


def near_duplicates(
    registered: Mapping[Path, NDArray[np.uint8]], candidates: Sequence[Path]
) -> dict[Path, Path]:
    """Candidate -> the registered glyph it is a PDQ near duplicate of, under any of the eight
    flips and quarter turns, as the copy set's pool and the product compare. `registered`
    maps each registered glyph to its packed PDQ hash."""
    paths = list(registered)
    codes = (
        np.stack([registered[p] for p in paths]) if paths else np.zeros((0, PDQ_BYTES), np.uint8)
    )
    found: dict[Path, Path] = {}
    for path in candidates:
        if (index := near_duplicate_of(rgb_image(path), codes)) is not None:
            found[path] = paths[index]
    return found


def rgb_image(path: Path) -> Image.Image:
    """The image file as RGB, the file closed."""
    with Image.open(path) as img:
        return img.convert("RGB")


def _sample(families: list[str], limit: int | None, seed: int) -> list[str]:
    """At most `limit` families, in an order keyed by each name, so samples nest as they grow."""
    if limit is None:
        return families
    ordered = sorted(families, key=lambda f: random.Random(f"{seed}:order:{f}").random())
    return sorted(ordered[:limit])


def build_font_dev(
    cache_dir: Path,
    seed: int = 0,
    size: int = 128,
    *,
    roots: Sequence[Path] = (DEFAULT_ROOT,),
    train_fraction: float = 0.4,
    unregistered_fraction: float = 0.2,
    gallery_fraction: float = 0.6,
    max_families: int | None = None,
) -> FontDevSet:
    """Render, split and list the style-fonts dev set under `cache_dir/fonts/`.

    Each family's group is drawn from its own seeded key, so adding a family moves no other;
    the gallery characters depend on the seed alone. Rendered glyphs are reused when already
    present; their path does not encode `size`, so use a fresh cache_dir for another size.
    """
    fonts = usable_fonts(roots)
    out_dir = cache_dir / "fonts"
    rendered = {
        family: _render_family(face, out_dir / family, size) for family, face in fonts.items()
    }
    codes = {
        family: hash_batch([rgb_image(p) for p in paths]) for family, paths in rendered.items()
    }
    designs = same_designs(codes)
    clones = {family: kept for family, kept in designs.items() if family != kept}
    families = _sample(sorted(set(designs.values())), max_families, seed)
    groups = family_groups(families, seed, train_fraction, unregistered_fraction)
    splits: dict[str, list[Glyph]] = {split: [] for split in SPLITS}
    for family, rows in glyph_splits(groups, *gallery_chars(seed, gallery_fraction)).items():
        for char, split in rows:
            splits[split].append(Glyph(family, char, rendered[family][CHARSET.index(char)]))
    registered = {g.path: codes[g.family][CHARSET.index(g.char)] for g in splits["gallery"]}
    candidates = [glyph.path for split in QUERY_SPLITS for glyph in splits[split]]
    copies = near_duplicates(registered, candidates)
    duplicates = {split: [g for g in splits[split] if g.path in copies] for split in QUERY_SPLITS}
    for split in QUERY_SPLITS:
        splits[split] = [glyph for glyph in splits[split] if glyph.path not in copies]
    manifest = out_dir / "manifest.csv"
    out_dir.mkdir(parents=True, exist_ok=True)
    with manifest.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["family", "char", "path", "split", "duplicate_of"])
        for split, glyphs in [
            *splits.items(),
            *((f"{s}-duplicate", g) for s, g in duplicates.items()),
        ]:
            for glyph in glyphs:
                relative = glyph.path.relative_to(out_dir).as_posix()
                original = copies.get(glyph.path)
                of = original.relative_to(out_dir).as_posix() if original else ""
                writer.writerow([glyph.family, f"{ord(glyph.char):04x}", relative, split, of])
    return FontDevSet(
        splits["train"], splits["gallery"], splits["query"], splits["cross_style"],
        splits["impostor"], manifest, duplicates, clones,
    )  # fmt: skip


def _render_family(face: FontFace, folder: Path, size: int) -> list[Path]:
    """The family's CHARSET glyphs, in CHARSET order, rendered unless already cached."""
    font = load_font(face.path, RENDER_SCALE * size)
    return [_render_cached(font, c, folder / f"{ord(c):04x}.png", size) for c in CHARSET]


def main(argv: list[str] | None = None) -> None:
    """CLI: build the dev set and print its counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--root", type=Path, action="append", help="default: /usr/share/fonts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--max-families", type=int, default=None)
    args = parser.parse_args(argv)
    roots = args.root or [DEFAULT_ROOT]
    faces = scan_faces(roots)
    text = {face.family for face in faces if is_text_family(face.name)}
    symbols = {face.family for face in faces} - text
    dev = build_font_dev(
        args.cache, args.seed, args.size, roots=roots, max_families=args.max_families
    )
    used = {glyph.family for glyph in dev.train + dev.gallery + dev.cross_style}
    print(f"font files: {len(faces)}, families: {len(text | symbols)}")
    print(f"symbol/maths families skipped: {len(symbols)}: {', '.join(sorted(symbols))}")
    if args.max_families is None:
        missing = sorted(text - used - set(dev.clones))
        print(f"families missing a glyph of {CHARSET}: {len(missing)}: {', '.join(missing)}")
    print(f"families used: {len(used)}")
    clones = ", ".join(f"{family} (as {kept})" for family, kept in sorted(dev.clones.items()))
    print(f"families left out as clones of another design: {len(dev.clones)}: {clones}")
    for split, glyphs in dev.duplicates.items():
        print(f"{split} glyphs set aside as near duplicates of registered glyphs: {len(glyphs)}")
    for name, glyphs in (
        ("train", dev.train), ("gallery", dev.gallery), ("queries", dev.queries),
        ("cross_style", dev.cross_style), ("impostors", dev.impostors),
    ):  # fmt: skip
        print(f"{name}: {len(glyphs)} glyphs, {len({g.family for g in glyphs})} families")
    print(f"manifest: {dev.manifest}")


if __name__ == "__main__":
    main()
