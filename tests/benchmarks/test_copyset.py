"""The copy dev set is reproducible, its splits are disjoint and balanced, duplicates never
become distractors, and every edit is used about equally; built from tiny fake domain roots."""

from __future__ import annotations

import csv
import io
import random
import shutil
import struct
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from benchmarks.accuracy import sample_queries
from benchmarks.copyset import (
    CopyDevSet,
    CopyRoots,
    build_copy_dev,
    declared_variants,
    plan_edits,
    read_qresource,
)
from benchmarks.edits import EDITS

SIZE = 96
N_SOURCES, N_DISTRACTORS, PER_SOURCE = 12, 15, 6
SVG = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:cc="http://creativecommons.org/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/"><metadata>
<rdf:RDF><cc:Work><dc:title>{title}</dc:title><dc:creator><cc:Agent><dc:title>{creator}</dc:title>
</cc:Agent></dc:creator></cc:Work></rdf:RDF></metadata></svg>"""


def _drawing(seed: int, side: int = SIZE) -> Image.Image:
    """A random arrangement of coloured shapes on a light ground; seeds give distinct images."""
    rng = random.Random(seed)
    img = Image.new("RGB", (side, side), tuple(rng.randint(200, 255) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x, y = rng.randint(0, side - 20), rng.randint(0, side - 20)
        box = (x, y, x + rng.randint(10, side // 2), y + rng.randint(10, side // 2))
        colour = tuple(rng.randint(0, 180) for _ in range(3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=colour)
    return img


def _png(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def _write_rcc(path: Path, files: dict[str, tuple[bytes, bool]]) -> None:
    """A Qt resource archive (format 3) of `files` (bytes, zlib-compressed?)."""
    tree: dict[str, Any] = {}  # folder name -> subtree, file name -> (bytes, compressed)
    for name, content in files.items():
        *folders, leaf = name.split("/")
        node = tree
        for folder in folders:
            node = node.setdefault(folder, {})
        node[leaf] = content
    nodes, names, data = bytearray(), bytearray(), bytearray()
    queue: list[tuple[str, Any]] = [("", tree)]
    for name, content in queue:  # breadth first: each folder's children are contiguous
        name_at = len(names)
        names += struct.pack(">HI", len(name), 0) + name.encode("utf-16-be")
        if isinstance(content, dict):
            nodes += struct.pack(">IHIIQ", name_at, 2, len(content), len(queue), 0)
            queue += list(content.items())
        else:
            raw, packed = content
            payload = struct.pack(">I", len(raw)) + zlib.compress(raw) if packed else raw
            nodes += struct.pack(">IHHHIQ", name_at, int(packed), 0, 0, len(data), 0)
            data += struct.pack(">I", len(payload)) + payload
    header = 24
    offsets = (header, header + len(nodes), header + len(nodes) + len(data))
    path.write_bytes(struct.pack(">4sIIIII", b"qres", 3, *offsets, 0) + nodes + data + names)


def _transparent_stamp(seed: int) -> Image.Image:
    """Shapes on a transparent ground, as Tux Paint stamps are."""
    img = _drawing(seed).convert("RGBA")
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).ellipse((8, 8, SIZE - 8, SIZE - 8), fill=255)
    img.putalpha(mask)
    return img


def _fake_roots(root: Path) -> CopyRoots:
    """Five small domains with one exact duplicate, one near duplicate and some skipped files."""
    seeds = iter(range(1000))
    walls = root / "backgrounds"
    for rel in ("gnome/a.png", "gnome/b.png", "mate/nature/c.jpg", "mate/nature/d.png"):
        (walls / rel).parent.mkdir(parents=True, exist_ok=True)
        _drawing(next(seeds)).save(walls / rel)
    (walls / "gnome/vector.svg").write_text("<svg/>")
    overlay = Image.new("RGBA", (SIZE, SIZE), (255, 255, 255, 0))
    ImageDraw.Draw(overlay).ellipse((10, 10, 80, 80), fill=(255, 255, 255, 120))
    overlay.save(walls / "mate/nature/overlay.png")  # white on transparent: blank on white
    _drawing(next(seeds)).resize((SIZE, 3 * SIZE)).save(walls / "mate/nature/strip.png")
    (walls / "plasma/Kite").mkdir(parents=True)  # another wallpaper package: not the set's
    _drawing(999).save(walls / "plasma/Kite/kite.png")
    activities = "gcompris/src/activities/"
    members = {
        f"{activities}animals/resource/{name}.png": (_png(_drawing(next(seeds))), False)
        for name in ("cat", "dog", "cow", "hen", "pig")
    }
    members[f"{activities}animals/resource/icon.png"] = (_png(_drawing(next(seeds), 40)), False)
    members[f"{activities}paintings/resource/image/monet_a1.png"] = (
        _png(_drawing(next(seeds))),
        False,
    )
    members["gcompris/src/core/resource/button.png"] = (_png(_drawing(next(seeds))), False)
    members[f"{activities}animals/Animals.qml"] = (b"import QtQuick 2.12\n" * 20, True)
    (root / "gcompris/rcc").mkdir(parents=True)
    _write_rcc(root / "gcompris/rcc/animals.rcc", members)
    stamps = root / "stamps"
    for k in range(6):
        (stamps / f"animals/s{k}.png").parent.mkdir(parents=True, exist_ok=True)
        _transparent_stamp(next(seeds)).save(stamps / f"animals/s{k}.png")
    mirrored = Image.open(stamps / "animals/s0.png").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    mirrored.save(stamps / "animals/s0_mirror.png")
    samples = root / "skimage-data"
    samples.mkdir()
    for name in ("astronaut", "camera", "coffee", "coins"):
        _drawing(next(seeds)).save(samples / f"{name}.png")
    (samples / "broken.png").write_bytes(b"not an image")
    shutil.copy(walls / "gnome/a.png", samples / "a_again.png")  # an exact duplicate
    clipart = root / "openclipart"
    for creator, count in (("Ann Artist", 6), ("Bo Painter", 5), ("Cy Drawer", 4)):
        for k in range(count):
            rel = f"animals/{creator.split()[0].lower()}{k}"
            (clipart / "svg" / rel).parent.mkdir(parents=True, exist_ok=True)
            (clipart / "png" / rel).parent.mkdir(parents=True, exist_ok=True)
            (clipart / "svg" / f"{rel}.svg").write_text(SVG.format(title=rel, creator=creator))
            _drawing(next(seeds)).save(clipart / "png" / f"{rel}.png")
    (clipart / "svg/animals/recolour.svg").write_text(SVG.format(title="r", creator="Ann Artist"))
    recolour = ImageEnhance.Brightness(Image.open(clipart / "png/animals/ann0.png")).enhance(1.08)
    recolour.save(clipart / "png/animals/recolour.png")  # a near duplicate of ann0
    for k in (0, 4):  # bo0 and bo4 in other colours, far apart for PDQ
        (clipart / f"svg/animals/inverted{k}.svg").write_text(
            SVG.format(title=k, creator="Bo Painter")
        )
        inverted = ImageOps.invert(Image.open(clipart / f"png/animals/bo{k}.png").convert("RGB"))
        inverted.save(clipart / f"png/animals/inverted{k}.png")
    lists = root / "gnome-background-properties"  # b and b-dark: one wallpaper, as GNOME's are
    lists.mkdir()
    _drawing(next(seeds)).save(walls / "gnome/b-dark.png")  # far from b for PDQ and colours
    (lists / "b.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE wallpapers SYSTEM "gnome-wp-list.dtd">\n'
        f"<wallpapers><wallpaper><name>B</name><filename>{walls}/gnome/b.png</filename>"
        f"<filename-dark>{walls}/gnome/b-dark.png</filename-dark></wallpaper>"
        f"<wallpaper><name>A</name><filename>{walls}/gnome/a.png</filename></wallpaper>"
        "</wallpapers>"
    )
    (lists / "broken.xml").write_text("<wallpapers><wallpaper>")  # skipped, not fatal
    return CopyRoots(
        (walls,), root / "gcompris", stamps, samples, clipart, wallpaper_lists=(lists,)
    )


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> CopyRoots:
    return _fake_roots(tmp_path_factory.mktemp("roots"))


def _build(cache: Path, roots: CopyRoots, seed: int = 0) -> CopyDevSet:
    return build_copy_dev(
        cache,
        seed,
        SIZE,
        n_sources=N_SOURCES,
        n_distractors=N_DISTRACTORS,
        edits_per_source=PER_SOURCE,
        calibration_fraction=1 / 4,
        roots=roots,
    )


@pytest.fixture(scope="module")
def dev(roots: CopyRoots, tmp_path_factory: pytest.TempPathFactory) -> CopyDevSet:
    return _build(tmp_path_factory.mktemp("cache"), roots)


def _manifest(dev: CopyDevSet) -> list[dict[str, str]]:
    with dev.manifest.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _items(dev: CopyDevSet) -> list[list[str]]:
    splits = (dev.calibration, dev.references, dev.calibration_distractors, dev.distractors)
    return [[item.id for item in split] for split in splits]


def test_qresource_reader_lists_nested_files_and_inflates_zlib(tmp_path: Path) -> None:
    files = {"a/b/c.png": (b"\x89PNG raw", False), "a/d.txt": (b"packed " * 9, True)}
    _write_rcc(tmp_path / "x.rcc", files)
    assert read_qresource(tmp_path / "x.rcc") == {name: raw for name, (raw, _) in files.items()}


def test_same_seed_gives_the_same_manifest(
    dev: CopyDevSet, roots: CopyRoots, tmp_path: Path
) -> None:
    again = _build(tmp_path, roots)
    assert again.manifest.read_bytes() == dev.manifest.read_bytes()
    assert _build(tmp_path / "other", roots, seed=1).manifest.read_bytes() != (
        dev.manifest.read_bytes()
    )


def test_splits_are_disjoint_and_sized(dev: CopyDevSet) -> None:
    calibration, references, cal_distractors, distractors = map(set, _items(dev))
    everything = calibration | references | cal_distractors | distractors
    assert len(everything) == N_SOURCES + N_DISTRACTORS
    assert len(calibration) + len(references) == N_SOURCES
    assert len(calibration) == N_SOURCES // 4 and len(cal_distractors) == round(N_DISTRACTORS / 4)
    assert {q.source.id for q in dev.calibration_queries} == calibration
    assert {q.source.id for q in dev.queries} == references


def test_duplicates_and_skipped_files_never_enter(dev: CopyDevSet) -> None:
    with (dev.manifest.parent / "pool.csv").open(newline="") as fh:
        status = {row["id"]: (row["status"], row["duplicate_of"]) for row in csv.DictReader(fh)}
    assert status["wallpaper/gnome/a"] == ("exact", "skimage/a_again")  # first in id order stays
    assert status["openclipart/ann-artist/recolour"] == ("near", "openclipart/ann-artist/ann0")
    assert status["openclipart/bo-painter/inverted0"] == ("recolour", "openclipart/bo-painter/bo0")
    assert status["wallpaper/gnome/b"] == ("kept", "")
    assert status["wallpaper/gnome/b-dark"] == ("variant", "wallpaper/gnome/b")  # b sorts first
    assert status["skimage/broken"][0] == "unreadable"
    assert status["gcompris/animals/resource/icon"][0] == "small"
    assert status["wallpaper/mate/nature/overlay"][0] == "blank"
    assert status["wallpaper/mate/nature/strip"][0] in {"small", "narrow"}  # 32 x 96 at SIZE
    assert "tuxpaint/animals/s0_mirror" not in status
    assert dev.pool_verdicts == Counter(verdict for verdict, _ in status.values())
    assert not any("paintings" in key or "core" in key for key in status)
    assert not any(key.startswith("wallpaper/plasma") for key in status)
    chosen = {item_id for split in _items(dev) for item_id in split}
    assert chosen <= {key for key, (verdict, _) in status.items() if verdict == "kept"}


def test_transparency_is_flattened_on_white(dev: CopyDevSet) -> None:
    stamps = [i for split in (dev.calibration, dev.references) for i in split]
    stamps += [*dev.calibration_distractors, *dev.distractors]
    stamp = next(item for item in stamps if item.domain == "tuxpaint")
    with Image.open(stamp.path) as img:
        assert img.mode == "RGB" and img.getpixel((0, 0)) == (255, 255, 255)


def test_every_source_gets_distinct_edits_spread_evenly(dev: CopyDevSet) -> None:
    for queries in (dev.calibration_queries, dev.queries):
        by_source: dict[str, set[str]] = {}
        for q in queries:
            by_source.setdefault(q.source.id, set()).add(q.edit)
        assert all(len(edits) == PER_SOURCE for edits in by_source.values())
        counts = Counter(q.edit for q in queries)
        assert max(counts.values()) - min(counts.values()) <= 1


@pytest.mark.parametrize("per_source", [1, 5, 6, 7, 11, 12])
def test_planned_edits_are_distinct_and_balanced(per_source: int) -> None:
    ids = [f"s{k:03}" for k in range(37)]
    plan = plan_edits(ids, per_source, seed=3)
    for source_id in ids:
        assert len({edit for sid, edit in plan if sid == source_id}) == per_source
    counts = Counter(edit for _, edit in plan)
    assert set(counts) <= set(EDITS)
    assert max(counts.values()) - min(counts.get(e, 0) for e in EDITS) <= 1


def test_queries_are_rebuilt_byte_identically(
    dev: CopyDevSet, roots: CopyRoots, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(dev.manifest.parent, cache / "copy")
    before = {q.path.name + q.source.id: q.path.read_bytes() for q in dev.queries}
    shutil.rmtree(cache / "copy" / "queries")
    rebuilt = _build(cache, roots)
    assert {q.path.name + q.source.id: q.path.read_bytes() for q in rebuilt.queries} == before


def test_domains_are_balanced(dev: CopyDevSet) -> None:
    rows = [row for row in _manifest(dev) if not row["edit"]]
    shares = Counter(row["domain"] for row in rows)
    assert set(shares) == {"wallpaper", "gcompris", "tuxpaint", "skimage", "openclipart"}
    # Smallest domains are used whole; openclipart (15 distinct) fills only the rest.
    assert shares == {"wallpaper": 3, "gcompris": 5, "skimage": 5, "tuxpaint": 6, "openclipart": 8}
    assert max(shares.values()) <= 0.4 * len(rows)


def test_some_distractors_share_a_source_group(dev: CopyDevSet) -> None:
    groups = {(item.domain, item.group) for item in [*dev.calibration, *dev.references]}
    distractors = [*dev.calibration_distractors, *dev.distractors]
    assert any((item.domain, item.group) in groups for item in distractors)


def test_a_pool_too_small_is_refused(roots: CopyRoots, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needed"):
        build_copy_dev(tmp_path, 0, SIZE, n_sources=30, n_distractors=30, roots=roots)


def test_recolours_of_held_out_sources_are_kept_aside(dev: CopyDevSet) -> None:
    """A recolour the pool dropped is listed, with its image, when it recolours a held-out
    source: the benchmark can then count it as a non-copy too, to show what the drop does."""
    with (dev.manifest.parent / "pool.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    references = {item.id for item in dev.references}
    expected = {
        r["id"]
        for r in rows
        if r["status"] in ("recolour", "variant") and r["duplicate_of"] in references
    }
    assert {item.id for item in dev.recolours} == expected
    assert expected  # the fixture's bo4 is a held-out source with a recolour
    assert all(item.path.exists() for item in dev.recolours)
    chosen = {item_id for split in _items(dev) for item_id in split}
    assert not expected & chosen


def test_a_query_sample_is_seeded_in_path_order_and_never_pads(dev: CopyDevSet) -> None:
    few = sample_queries(dev, 5)
    assert len(few) == 5 and few == sample_queries(dev, 5)  # the same copies every run
    assert [q.path for q in few] == sorted(q.path for q in few)
    assert set(few) <= set(dev.queries)
    assert sample_queries(dev, 0) == sample_queries(dev, 10**6) == dev.queries


def test_declared_variants_join_the_files_of_one_listed_wallpaper(tmp_path: Path) -> None:
    """Files named in one list entry map to its first; a file listed alone maps to nothing."""
    (tmp_path / "w.xml").write_text(
        "<wallpapers><wallpaper><filename>/x/l.webp</filename>"
        "<filename-dark>/x/d.webp</filename-dark></wallpaper>"
        "<wallpaper><filename>/x/alone.svg</filename></wallpaper></wallpapers>"
    )
    first = Path("/x/l.webp").resolve()
    assert declared_variants((tmp_path, tmp_path / "missing")) == {
        first: first,
        Path("/x/d.webp").resolve(): first,
    }
