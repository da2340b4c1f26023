"""style-fonts dev set: family ids, face choice, missing glyphs, glyph fitting, seeded splits."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw

from benchmarks import fonts
from benchmarks.fonts import (
    CHARSET,
    FontFace,
    build_font_dev,
    choose_faces,
    family_groups,
    family_slug,
    fit_glyph,
    gallery_chars,
    glyph_mask,
    glyph_splits,
    is_missing,
    is_text_family,
    load_font,
    missing_chars,
    near_duplicates,
    same_designs,
)
from models.pdq import MATCH_DISTANCE, PDQ_BITS, hash_batch

FONT_ROOT = Path("/usr/share/fonts")
NAMES = [f"family-{i}" for i in range(3000)]


def _face(name: str, style: str, path: str) -> FontFace:
    return FontFace(family_slug(name), name, style, Path(path))


def _ink_box(img: Image.Image) -> tuple[int, int, int, int] | None:
    return ImageChops.difference(img, Image.new("RGB", img.size, "white")).getbbox()


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("DejaVu Sans", "dejavu-sans"),
        ("DejaVu Sans Mono", "dejavu-sans-mono"),
        ("Lato Hairline", "lato"),
        ("Clear Sans Medium", "clear-sans"),
        ("IBM 3270 Semi-Condensed", "ibm-3270"),
        ("OCRABold", "ocra"),
        ("GentiumAlt", "gentium"),
        ("Accanthis ADF Std No2", "accanthis-adf"),
        ("Linux Libertine O", "linux-libertine"),
        ("It wasn't me", "it-wasnt-me"),
        ("Fust & Schoeffer", "fust-schoeffer"),
        ("Crème Brûlée", "creme-brulee"),
        ("FreeSans", "nimbus-sans"),
        ("Roadgeek 2014 Series EM", "roadgeek-2014"),
        ("Bold", "bold"),
        ("***", ""),
    ],
)
def test_family_slug(name: str, slug: str) -> None:
    assert family_slug(name) == slug


@given(st.text(max_size=40))
def test_family_slug_is_a_clean_id(name: str) -> None:
    assert re.fullmatch(r"([a-z0-9]+(-[a-z0-9]+)*)?", family_slug(name))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Standard Symbols PS", False),
        ("D050000L", False),
        ("OpenSymbol", False),
        ("Dingbats", False),
        ("STIX Math", False),
        ("STIXSizeOneSym", False),
        ("Linux Biolinum Keyboard O", False),
        ("Linux Libertine Initials O", False),
        ("DejaVu Serif", True),
        ("Mathilde", True),
    ],
)
def test_symbol_fonts_are_not_text(name: str, text: bool) -> None:
    assert is_text_family(name) is text


def test_choose_faces_prefers_the_plain_upright_face() -> None:
    faces = [
        _face("Lato", "Bold", "/f/Lato-Bold.ttf"),
        _face("Lato", "Italic", "/f/Lato-Italic.ttf"),
        _face("Lato Hairline", "Regular", "/f/Lato-Hairline.ttf"),
        _face("Lato Light", "Regular", "/f/Lato-Light.ttf"),
        _face("Lato", "Regular", "/f/Lato-Regular.ttf"),
        _face("Lato Medium", "Regular", "/f/Lato-Medium.ttf"),
    ]
    chosen = choose_faces(faces, lambda face: True)
    assert list(chosen) == ["lato"]
    assert chosen["lato"].path == Path("/f/Lato-Regular.ttf")
    without_regular = choose_faces(faces, lambda face: face.path.stem != "Lato-Regular")
    assert without_regular["lato"].path == Path("/f/Lato-Medium.ttf")


def test_choose_faces_falls_back_on_file_names_then_paths() -> None:
    mislabelled = [  # every face of this family calls itself "Light"
        _face("Courier Prime Sans", "Light", "/f/Courier Prime Sans Bold Italic.otf"),
        _face("Courier Prime Sans", "Light", "/f/Courier Prime Sans Bold.otf"),
        _face("Courier Prime Sans", "Light", "/f/Courier Prime Sans.otf"),
    ]
    duplicates = [  # one family shipped by two packages
        _face("Liberation Sans", "Regular", "/b/LiberationSans-Regular.ttf"),
        _face("Liberation Sans", "Regular", "/a/LiberationSans-Regular.ttf"),
    ]
    chosen = choose_faces(mislabelled + duplicates, lambda face: True)
    assert chosen["courier-prime-sans"].path == Path("/f/Courier Prime Sans.otf")
    assert chosen["liberation-sans"].path == Path("/a/LiberationSans-Regular.ttf")


def test_choose_faces_leaves_out_families_without_a_usable_face() -> None:
    faces = [_face("Swift", "Regular", "/f/Swift.ttf"), _face("Go", "Regular", "/f/Go.ttf")]
    assert list(choose_faces(faces, lambda face: face.name != "Swift")) == ["go"]


def test_family_groups_are_seeded_and_proportioned() -> None:
    groups = family_groups(NAMES, 0, 0.4, 0.2)
    assert groups == family_groups(list(reversed(NAMES)), 0, 0.4, 0.2)
    assert groups != family_groups(NAMES, 1, 0.4, 0.2)
    shares = {g: list(groups.values()).count(g) / len(NAMES) for g in set(groups.values())}
    assert shares["train"] == pytest.approx(0.4, abs=0.03)
    assert shares["registered"] == pytest.approx(0.4, abs=0.03)
    assert shares["unregistered"] == pytest.approx(0.2, abs=0.03)
    assert set(family_groups(NAMES[:50], 0, 0.0, 0.0).values()) == {"registered"}


def test_adding_a_family_moves_no_other() -> None:
    before = family_groups(NAMES[:100], 3, 0.4, 0.2)
    after = family_groups([*NAMES[:100], "a-new-family", "another"], 3, 0.4, 0.2)
    assert {name: after[name] for name in before} == before


def test_gallery_chars_split_the_charset_by_seed() -> None:
    shown, held = gallery_chars(0, 0.6)
    assert (len(shown), len(held)) == (37, 25)
    assert not set(shown) & set(held)
    assert sorted(shown + held) == sorted(CHARSET)
    assert gallery_chars(0, 0.6) == (shown, held)
    assert gallery_chars(1, 0.6) != (shown, held)
    assert len(gallery_chars(0, 0.0)[0]) == 1 and len(gallery_chars(0, 1.0)[1]) == 1


def test_glyph_splits_pair_groups_with_characters() -> None:
    shown, held = gallery_chars(0, 0.6)
    groups = {"a": "train", "b": "registered", "c": "unregistered"}
    rows = glyph_splits(groups, shown, held)

    def chars(family: str, split: str) -> str:
        return "".join(char for char, s in rows[family] if s == split)

    assert chars("a", "train") == CHARSET and len(rows["a"]) == len(CHARSET)
    assert (chars("b", "gallery"), chars("b", "query")) == (shown, held)
    assert (chars("c", "cross_style"), chars("c", "impostor")) == (shown, held)
    assert {s for family in rows for _, s in rows[family]} == set(fonts.SPLITS)


@pytest.mark.parametrize("box", [(20, 150, 80, 190), (200, 10, 210, 190)])
def test_fit_glyph_trims_scales_and_centres_the_ink(box: tuple[int, int, int, int]) -> None:
    mask = Image.new("L", (300, 200))
    ImageDraw.Draw(mask).rectangle(box, fill=255)
    out = fit_glyph(mask, 128)
    assert (out.mode, out.size) == ("RGB", (128, 128))
    ink = _ink_box(out)
    assert ink is not None
    left, top, right, bottom = ink
    assert max(right - left, bottom - top) == pytest.approx(0.8 * 128, abs=2)
    assert abs(left - (128 - right)) <= 1 and abs(top - (128 - bottom)) <= 1
    assert out.getpixel((64, 64)) == (0, 0, 0) and out.getpixel((0, 0)) == (255, 255, 255)


def test_fit_glyph_of_an_empty_mask_is_blank() -> None:
    assert _ink_box(fit_glyph(Image.new("L", (40, 40)), 64)) is None


def test_is_missing_spots_empty_and_notdef_glyphs() -> None:
    notdef = Image.new("L", (30, 40))
    ImageDraw.Draw(notdef).rectangle((2, 2, 27, 37), outline=255, width=2)
    letter = Image.new("L", (30, 40))
    ImageDraw.Draw(letter).polygon([(0, 39), (15, 0), (29, 39)], fill=255)
    assert is_missing(Image.new("L", (30, 40)), [notdef])
    assert is_missing(notdef.copy(), [notdef])
    assert not is_missing(letter, [notdef])
    assert not is_missing(notdef.resize((30, 41)), [notdef])


def _text_font() -> Path:
    """A real font that draws all of CHARSET, DejaVu Sans when installed."""
    if not FONT_ROOT.is_dir():
        pytest.skip(f"no {FONT_ROOT}: the rendering test needs one TrueType font")
    preferred = sorted(FONT_ROOT.rglob("DejaVuSans.ttf"))
    for path in preferred + sorted(FONT_ROOT.rglob("*.ttf"))[:20]:
        if not missing_chars(path):
            return path
    pytest.skip(f"no font under {FONT_ROOT} draws A-Z a-z 0-9")


def test_real_font_draws_letters_and_notdef_for_unassigned_code_points() -> None:
    font = load_font(_text_font(), 48)
    notdefs = [glyph_mask(font, "\uffff")]
    assert not is_missing(glyph_mask(font, "g"), notdefs)
    assert is_missing(glyph_mask(font, "\u0379"), notdefs)


def test_build_renders_and_lists_one_family(tmp_path: Path) -> None:
    root = tmp_path / "fonts-root"
    root.mkdir()
    (root / "face.ttf").symlink_to(_text_font())
    dev = build_font_dev(tmp_path / "cache", size=32, roots=[root])
    splits = [dev.train, dev.gallery, dev.queries, dev.cross_style, dev.impostors]
    glyphs = [glyph for split in splits for glyph in split]
    glyphs += [glyph for aside in dev.duplicates.values() for glyph in aside]
    assert sorted(glyph.char for glyph in glyphs) == sorted(CHARSET)
    assert len({glyph.family for glyph in glyphs}) == 1
    with Image.open(glyphs[0].path) as img:
        assert (img.mode, img.size) == ("RGB", (32, 32)) and _ink_box(img) is not None
    with dev.manifest.open() as fh:
        rows = list(csv.DictReader(fh))
    assert {chr(int(row["char"], 16)) for row in rows} == set(CHARSET)
    assert all((dev.manifest.parent / row["path"]).is_file() for row in rows)
    stamp = glyphs[0].path.stat().st_mtime_ns
    build_font_dev(tmp_path / "cache", size=32, roots=[root])
    assert glyphs[0].path.stat().st_mtime_ns == stamp  # reused, not rendered again


def _packages(text: str, start: str) -> set[str]:
    line = text.replace("\\\n", " ").split(start, 1)[1].splitlines()[0]
    return set(line.split())


def test_makefile_installs_the_fonts_the_module_lists() -> None:
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    assert fonts.__doc__ is not None
    listed = _packages(fonts.__doc__, "--no-install-recommends")
    assert listed == _packages(makefile, "FONT_PACKAGES :=")
    assert len(listed) > 100 and all(name.startswith("fonts-") for name in listed)


def _codes(rng: np.random.Generator, base: np.ndarray, flips: list[int]) -> np.ndarray:
    """`base` hashes with flips[i] random bits changed in character i's hash."""
    bits = np.unpackbits(base, axis=1)
    for row, count in zip(bits, flips, strict=True):
        row[rng.choice(PDQ_BITS, count, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def test_same_designs_joins_families_whose_glyphs_mostly_nearly_repeat() -> None:
    rng = np.random.default_rng(0)
    n = len(CHARSET)
    base = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    near, far = MATCH_DISTANCE - 3, MATCH_DISTANCE + 20
    codes = {
        "vera": base,
        "dejavu": _codes(rng, base, [near] * n),  # a clone: every glyph a near duplicate
        "hack": _codes(rng, base, [near] * (n // 2 + 1) + [far] * (n - n // 2 - 1)),
        "lookalike": _codes(rng, base, [near] * (n // 2 - 1) + [far] * (n - n // 2 + 1)),
        "other": rng.integers(0, 256, (n, 32), dtype=np.uint8),
    }
    kept = same_designs(codes)
    assert kept == {
        "dejavu": "dejavu", "hack": "dejavu", "vera": "dejavu",
        "lookalike": "lookalike", "other": "other",
    }  # fmt: skip


def test_same_designs_follows_chains_to_the_first_name() -> None:
    rng = np.random.default_rng(1)
    n = len(CHARSET)
    a = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    b = _codes(rng, a, [MATCH_DISTANCE - 5] * n)
    c = _codes(rng, b, [MATCH_DISTANCE - 5] * n)  # near b, about twice as far from a
    assert same_designs({"c": c, "b": b, "a": a}) == {"a": "a", "b": "a", "c": "a"}


def _drawing(shape: str, size: int = 96) -> Image.Image:
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    if shape == "bar":
        draw.rectangle((40, 8, 52, 88), fill="black")
    elif shape == "ell":
        draw.rectangle((20, 8, 32, 88), fill="black")
        draw.rectangle((20, 76, 80, 88), fill="black")
    elif shape == "ring":
        draw.ellipse((12, 12, 84, 84), outline="black", width=10)
    return img


def test_near_duplicates_finds_repeats_under_flips_only(tmp_path: Path) -> None:
    paths = {}
    for name, img in {
        "bar": _drawing("bar"),
        "ell": _drawing("ell"),
        "bar-again": _drawing("bar"),
        "ell-mirrored": _drawing("ell").transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "ring": _drawing("ring"),
    }.items():
        paths[name] = tmp_path / f"{name}.png"
        img.save(paths[name])
    gallery = [paths["bar"], paths["ell"]]
    codes = hash_batch([Image.open(p).convert("RGB") for p in gallery])
    registered = dict(zip(gallery, codes, strict=True))
    found = near_duplicates(registered, [paths["bar-again"], paths["ell-mirrored"], paths["ring"]])
    assert found == {paths["bar-again"]: paths["bar"], paths["ell-mirrored"]: paths["ell"]}
    assert near_duplicates({}, [paths["ring"]]) == {}
