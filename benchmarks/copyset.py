"""Copy-detection dev set: source images, their edited copies, and distractors that copy nothing.

Images come from five domains: Debian wallpapers, GCompris activity pictures (inside its Qt
resource archives), Tux Paint stamps, scikit-image's bundled samples and openclipart renders.
Here live the per-domain scans, a reader for Qt `.rcc` archives, the normaliser, the filter
that drops exact and near duplicates, recolours and a wallpaper's declared light and dark
variants (a distractor that repeats a source would be a mislabelled copy), the domain-balanced
seeded selection and splits, and the query writer.
The edits live in `benchmarks.edits`; the openclipart scan and renderer in
`benchmarks.openclipart`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import io
import math
import random
import re
import struct
import time
import xml.etree.ElementTree as ET
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, ImageOps, ImageStat

from benchmarks.edits import EDITS, WHITE
from benchmarks.openclipart import DEFAULT_ROOT as OPENCLIPART_ROOT
from benchmarks.openclipart import _seeded_split, eligible_works, load_on_white, scan_openclipart
from models.pdq import MATCH_DISTANCE, PDQ_BYTES, hash_batch, near_duplicate_of
from models.structure import RULES as RECOLOUR_RULES
from models.structure import StructureIndex

ITEM_SPLITS = ("calibration", "reference", "calibration_distractor", "distractor")
QUERY_SPLITS = ("calibration_query", "query")
_COLUMNS = ["id", "domain", "group", "split", "edit", "source_id", "path"]
RASTER = (".png", ".jpg", ".jpeg", ".webp")
SOURCE_SIZE = 512  # long side of a normalised source or distractor, pixels
_MIN_SIDE = 64  # icons and UI slivers are too small to copy
_MAX_ASPECT = 2.5  # banners and strips: not the shape of a registered work
_MIN_CONTRAST = 2.0  # channel std below this: blank, like white-on-transparent overlays
_CLIPART_PER_CREATOR = 8  # a few works per artist: same-style non-copies, no artist dominating
_SAME_GROUP_SHARE = 0.5  # of a domain's distractors taken first from its sources' groups
_QRC_ZLIB, _QRC_DIRECTORY, _QRC_ZSTD = 0x01, 0x02, 0x04
_GCOMPRIS_ACTIVITIES = "gcompris/src/activities/"
# Jigsaw activities: their pieces are crops of a `*_background` picture, copies not works.
_GCOMPRIS_JIGSAWS = ("babyshapes/", "details/", "paintings/")
_TUXPAINT_VARIANTS = ("_mirror", "_outline")  # mirrored or outline-only versions of a stamp


def _skimage_data() -> Path | None:
    """The installed scikit-image's folder of bundled samples, found without importing it."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


WALLPAPER_SETS = ("gnome", "mate")  # the folders of gnome-backgrounds and mate-backgrounds
# Desktops' wallpaper lists: GNOME's names one wallpaper's light and dark files in one entry.
WALLPAPER_LISTS = (Path("/usr/share/gnome-background-properties"),)


@dataclass(frozen=True)
class CopyRoots:
    """Where each domain's images live; a missing folder gives an empty domain. Wallpapers
    are read only from the `wallpaper_sets` folders of each root: another wallpaper package
    installed on the machine (KDE Plasma's, UKUI's) would otherwise change the set. The
    `wallpaper_lists` folders hold the desktops' XML lists that join a wallpaper's variants."""

    wallpaper: tuple[Path, ...] = (Path("/usr/share/backgrounds"), Path("/usr/share/wallpapers"))
    gcompris: Path = Path("/usr/share/gcompris-qt")
    tuxpaint: Path = Path("/usr/share/tuxpaint/stamps")
    skimage: Path | None = field(default_factory=_skimage_data)
    openclipart: Path = OPENCLIPART_ROOT
    wallpaper_sets: tuple[str, ...] = WALLPAPER_SETS
    wallpaper_lists: tuple[Path, ...] = WALLPAPER_LISTS


@dataclass(frozen=True)
class CopyItem:
    """A normalised source or distractor image; `group` is its artist or folder (its style)."""

    id: str
    domain: str
    group: str
    path: Path


@dataclass(frozen=True)
class CopyQuery:
    """An edited copy of a source."""

    edit: str
    source: CopyItem
    path: Path


@dataclass(frozen=True)
class CopyDevSet:
    """Sources and distractors of each split, the copies of the sources, and the manifest."""

    calibration: list[CopyItem]
    references: list[CopyItem]
    calibration_queries: list[CopyQuery]
    queries: list[CopyQuery]
    calibration_distractors: list[CopyItem]
    distractors: list[CopyItem]
    manifest: Path
    # Recolours and declared variants of held-out sources that the pool dropped: never
    # distractors, but the benchmark reports how recall changes if they counted as non-copies.
    recolours: list[CopyItem] = field(default_factory=list)
    # How many pool candidates got each verdict (kept, exact, near, variant, recolour, unusable).
    pool_verdicts: dict[str, int] = field(default_factory=dict)


REVIEWED_DERIVATIVES = Path(__file__).with_name("derivatives.csv")


def reviewed_derivatives(path: Path = REVIEWED_DERIVATIVES) -> dict[str, str]:
    """Distractor id -> source id: distractors judged by eye derivatives of a registered
    source, which the pool's screens (PDQ, recolours, declared variants) let through. The
    rule: the distractor repeats the source's drawing or photograph as its main subject,
    recoloured, mirrored, or with a part added, removed or redrawn; another picture of the
    same subject, or a template shared around other content, is no derivative. Reviewed: the
    12 highest-scoring distractors of each copy method in the accuracy table (stop 37)."""
    with path.open(newline="") as f:
        return {row["distractor_id"]: row["source_id"] for row in csv.DictReader(f)}


@dataclass(frozen=True)
class _Candidate:
    """An image that may become a source or a distractor, and where its bytes are."""

    id: str
    domain: str
    group: str
    file: Path  # the image, or the archive holding it
    stamp: str  # size and mtime of `file`, part of the pool cache key
    data: bytes | None = field(default=None, repr=False)  # the image's bytes in an archive


def read_qresource(archive: Path) -> dict[str, bytes]:
    """Files of a Qt binary resource archive (`.rcc`, format 1-3) by path, zlib members inflated.

    zstd-compressed members are left out: the standard library cannot inflate them, and
    GCompris stores its pictures uncompressed.
    """
    buf = archive.read_bytes()
    magic, version, tree, data, names = struct.unpack_from(">4sIIII", buf)
    if magic != b"qres":
        raise ValueError(f"{archive} is not a Qt resource archive")
    node_size = 22 if version >= 2 else 14
    files: dict[str, bytes] = {}
    pending = [(0, "")]
    while pending:
        node, prefix = pending.pop()
        at = tree + node * node_size
        name_at, flags = struct.unpack_from(">IH", buf, at)
        path = prefix + (_qrc_name(buf, names + name_at) if node else "")
        if flags & _QRC_DIRECTORY:
            count, first = struct.unpack_from(">II", buf, at + 6)
            pending += [
                (child, f"{path}/" if node else "") for child in range(first, first + count)
            ]
        elif not flags & _QRC_ZSTD:
            (data_at,) = struct.unpack_from(">I", buf, at + 10)
            (size,) = struct.unpack_from(">I", buf, data + data_at)
            payload = buf[data + data_at + 4 : data + data_at + 4 + size]
            files[path] = zlib.decompress(payload[4:]) if flags & _QRC_ZLIB else payload
    return files


def _qrc_name(buf: bytes, at: int) -> str:
    (length,) = struct.unpack_from(">H", buf, at)  # then a 4-byte hash, then UTF-16 text
    return buf[at + 6 : at + 6 + 2 * length].decode("utf-16-be")


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _safe(text: str) -> str:
    """A relative path made filesystem-safe: odd characters become `_`, no hidden segments."""
    parts = [re.sub(r"[^A-Za-z0-9._-]+", "_", part).lstrip(".") or "_" for part in text.split("/")]
    return "/".join(parts)


def _candidate(
    domain: str, rel: PurePosixPath, root: Path, file: Path, data: bytes | None = None
) -> _Candidate:
    """Id `<domain>/<relative path stem>`; group: the folder relative to the domain's root."""
    group = rel.parent.as_posix() if rel.parent.parts else root.name
    item_id = f"{domain}/{_safe(rel.with_suffix('').as_posix())}"
    return _Candidate(item_id, domain, group, file, _stamp(file), data)


def _scan_folders(
    roots: tuple[Path, ...], domain: str, skip: tuple[str, ...] = (), only: tuple[str, ...] = ()
) -> list[_Candidate]:
    """Raster files under the roots, except those whose stem ends with a `skip` suffix; with
    `only`, just those inside a root's folders of these names."""
    found: list[_Candidate] = []
    for root in (r for r in roots if r.is_dir()):
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if only and rel.parts[0] not in only:
                continue
            if path.suffix.lower() in RASTER and not path.stem.endswith(skip) and path.is_file():
                found.append(_candidate(domain, PurePosixPath(rel), root, path))
    return found


def _scan_gcompris(root: Path) -> list[_Candidate]:
    """Activity pictures inside GCompris's `.rcc` archives, less jigsaw pieces and the UI."""
    found: list[_Candidate] = []
    for archive in sorted(root.rglob("*.rcc")) if root.is_dir() else []:
        for member, data in sorted(read_qresource(archive).items()):
            if not member.startswith(_GCOMPRIS_ACTIVITIES) or not member.lower().endswith(RASTER):
                continue
            rel = PurePosixPath(member.removeprefix(_GCOMPRIS_ACTIVITIES))
            if not str(rel).startswith(_GCOMPRIS_JIGSAWS) or rel.stem.endswith("_background"):
                found.append(_candidate("gcompris", rel, root, archive, data))
    return found


def _scan_openclipart(root: Path, seed: int) -> list[_Candidate]:
    """A seeded sample of at most `_CLIPART_PER_CREATOR` drawings per named artist."""
    if not (root / "svg").is_dir():
        return []
    works = eligible_works(scan_openclipart(root), 1, _CLIPART_PER_CREATOR, seed)
    found: list[_Candidate] = []
    for creator, clips in works.items():
        for clip in clips:
            item_id = clipart_item_id(clip.work_id)
            found.append(_Candidate(item_id, "openclipart", creator, clip.png, _stamp(clip.png)))
    return found


def clipart_item_id(work_id: str) -> str:
    """The copy set's id of an openclipart drawing, from its style-set work id."""
    return f"openclipart/{_safe(work_id.removesuffix('.png'))}"


def clipart_candidates(roots: CopyRoots, seed: int) -> set[Path]:
    """Files of every openclipart drawing the copy set may draw on (kept or not): what a
    model trained for the benchmark must not see."""
    return {c.file for c in _scan_openclipart(roots.openclipart, seed)}


def _candidates(roots: CopyRoots, seed: int) -> list[_Candidate]:
    """Every domain's candidates sorted by id; of two with one id, the first scanned stays."""
    found = [
        *_scan_folders(roots.wallpaper, "wallpaper", only=roots.wallpaper_sets),
        *_scan_gcompris(roots.gcompris),
        *_scan_folders((roots.tuxpaint,), "tuxpaint", _TUXPAINT_VARIANTS),
        *_scan_folders((roots.skimage,) if roots.skimage else (), "skimage"),
        *_scan_openclipart(roots.openclipart, seed),
    ]
    by_id: dict[str, _Candidate] = {}
    for candidate in found:
        by_id.setdefault(candidate.id, candidate)
    return [by_id[key] for key in sorted(by_id)]


def declared_variants(lists: tuple[Path, ...]) -> dict[Path, Path]:
    """Each wallpaper file that a desktop's XML list names in one entry with others (GNOME's
    `filename` and `filename-dark`: one wallpaper, light and dark), mapped to the entry's first
    file; files named alone, and lists that do not parse, give nothing."""
    found: dict[Path, Path] = {}
    for folder in (f for f in lists if f.is_dir()):
        for listing in sorted(folder.glob("*.xml")):
            try:
                entries = ET.parse(listing).getroot().iter("wallpaper")
            except (ET.ParseError, OSError):
                continue
            for entry in entries:
                tags = ("filename", "filename-dark")
                files = [Path(e.text.strip()) for e in entry if e.tag in tags and e.text]
                if len(files) > 1:
                    for file in files:
                        found.setdefault(file.resolve(), files[0].resolve())
    return found


def flatten(img: Image.Image, size: int) -> Image.Image:
    """RGB with transparency composited on white, shrunk (never enlarged) to fit `size`."""
    rgba = ImageOps.exif_transpose(img).convert("RGBA")
    factor = max(rgba.size) // (2 * size)
    if factor > 1:  # box-reduce premultiplied, as load_on_white does, so no dark fringe
        rgba = rgba.convert("RGBa").reduce(factor).convert("RGBA")
    rgb = Image.alpha_composite(Image.new("RGBA", rgba.size, (*WHITE, 255)), rgba).convert("RGB")
    rgb.thumbnail((size, size), Image.Resampling.LANCZOS)
    return rgb


def _load(candidate: _Candidate, size: int) -> Image.Image:
    """The candidate normalised: openclipart trimmed to its drawing, the rest via `flatten`."""
    if candidate.domain == "openclipart":
        return load_on_white(candidate.file, size)
    source = candidate.file if candidate.data is None else io.BytesIO(candidate.data)
    with Image.open(source) as img:
        return flatten(img, size)


class _Deduplicator:
    """Remembers kept images by pixel digest, PDQ hash, declared wallpaper and colour
    boundaries; names what a new image repeats: the same pixels, a near duplicate, another
    variant of a wallpaper its package lists, or the same picture in other colours."""

    def __init__(self) -> None:
        self.by_digest: dict[str, str] = {}
        self.ids: list[str] = []
        self.codes = np.zeros((0, PDQ_BYTES), np.uint8)
        self.by_wallpaper: dict[Path, str] = {}
        self.structure = StructureIndex()

    def check(
        self, item_id: str, img: Image.Image, wallpaper: Path | None = None
    ) -> tuple[str, str]:
        """("kept", "") and remember it, or ("exact" | "near" | "variant" | "recolour", the
        earlier image's id); `wallpaper` is the listed wallpaper the image is a variant of."""
        digest = hashlib.sha256(repr(img.size).encode() + img.tobytes()).hexdigest()
        if digest in self.by_digest:
            return "exact", self.by_digest[digest]
        if (index := near_duplicate_of(img, self.codes)) is not None:
            return "near", self.ids[index]
        if wallpaper in self.by_wallpaper:
            return "variant", self.by_wallpaper[wallpaper]
        recoloured, _ = self.structure.find(img)
        if recoloured:
            return "recolour", recoloured
        self.by_digest[digest] = item_id
        self.ids.append(item_id)
        self.codes = np.concatenate([self.codes, hash_batch([img])])
        if wallpaper is not None:
            self.by_wallpaper[wallpaper] = item_id
        self.structure.add(item_id, img)
        return "kept", ""


def _unusable(img: Image.Image) -> str:
    """Why a normalised image cannot serve ("small", "narrow", "blank"), or ""."""
    short, long = sorted(img.size)
    if short < _MIN_SIDE:
        return "small"
    if long > _MAX_ASPECT * short:
        return "narrow"
    return "blank" if max(ImageStat.Stat(img).stddev) < _MIN_CONTRAST else ""


def _wallpaper_of(candidate: _Candidate, variants: dict[Path, Path]) -> Path | None:
    """The listed wallpaper a candidate's file is a variant of (files in archives are none)."""
    return None if candidate.data is not None else variants.get(candidate.file.resolve())


def _verdicts(
    candidates: list[_Candidate], size: int, variants: dict[Path, Path]
) -> dict[str, tuple[str, str]]:
    """Per candidate in id order: kept, unusable (why), or a repeat of an earlier one."""
    dedupe = _Deduplicator()
    verdicts: dict[str, tuple[str, str]] = {}
    for candidate in candidates:
        try:
            img = _load(candidate, size)
        except (OSError, Image.DecompressionBombError):
            verdicts[candidate.id] = ("unreadable", "")
            continue
        reason = _unusable(img)
        wallpaper = _wallpaper_of(candidate, variants)
        verdicts[candidate.id] = (
            (reason, "") if reason else dedupe.check(candidate.id, img, wallpaper)
        )
    return verdicts


def _cached_verdicts(path: Path, key: str) -> dict[str, tuple[str, str]]:
    """Verdicts from a pool.csv written under the same key; none if absent or stale."""
    if not path.exists():
        return {}
    with path.open(newline="") as fh:
        rows = [row for row in csv.DictReader(fh) if row["key"] == key]
    return {row["id"]: (row["status"], row["duplicate_of"]) for row in rows}


def _pool(
    candidates: list[_Candidate], size: int, out_dir: Path, variants: dict[Path, Path]
) -> tuple[list[_Candidate], dict[str, tuple[str, str]]]:
    """The kept candidates and every candidate's verdict; verdicts are cached in pool.csv,
    keyed by files, declared variants, size and rules."""
    rules = f"{size}:{_MIN_SIDE}:{_MAX_ASPECT}:{_MIN_CONTRAST}:{MATCH_DISTANCE}:{RECOLOUR_RULES}"
    listing = "\n".join(f"{c.id}\t{c.stamp}\t{_wallpaper_of(c, variants)}" for c in candidates)
    key = hashlib.sha256(f"{rules}\n{listing}".encode()).hexdigest()[:16]
    path = out_dir / "pool.csv"
    verdicts = _cached_verdicts(path, key)
    if set(verdicts) != {c.id for c in candidates}:
        verdicts = _verdicts(candidates, size, variants)
        rows = [[key, c.id, c.domain, c.group, *verdicts[c.id]] for c in candidates]
        _write_csv(path, ["key", "id", "domain", "group", "status", "duplicate_of"], rows)
    return [c for c in candidates if verdicts[c.id][0] == "kept"], verdicts


def _even_quotas(available: dict[str, int], total: int) -> dict[str, int]:
    """`total` spread over domains as evenly as their sizes allow, smallest filled first."""
    if sum(available.values()) < total:
        raise ValueError(f"{sum(available.values())} distinct images; {total} needed")
    quotas: dict[str, int] = {}
    order = sorted(available, key=lambda domain: (available[domain], domain))
    for k, domain in enumerate(order):
        quotas[domain] = min(available[domain], (total - sum(quotas.values())) // (len(order) - k))
    return quotas


def _shares(quotas: dict[str, int], part: int) -> dict[str, int]:
    """`part` of the quotas' sum, spread in proportion to them (largest remainder)."""
    exact = {
        domain: quota * part / max(1, sum(quotas.values())) for domain, quota in quotas.items()
    }
    shares = {domain: math.floor(value) for domain, value in exact.items()}
    by_remainder = sorted(exact, key=lambda domain: (shares[domain] - exact[domain], domain))
    for domain in by_remainder[: part - sum(shares.values())]:
        shares[domain] += 1
    return shares


def _pick(
    items: list[_Candidate], n_sources: int, n_distractors: int, key: str
) -> tuple[list[_Candidate], list[_Candidate]]:
    """Seeded sources, then distractors of which up to a half share a source's group."""
    shuffled = random.Random(key).sample(items, len(items))
    sources, rest = shuffled[:n_sources], shuffled[n_sources:]
    groups = {c.group for c in sources}
    same = [c for c in rest if c.group in groups][: math.ceil(_SAME_GROUP_SHARE * n_distractors)]
    taken = {c.id for c in same}
    others = [c for c in rest if c.id not in taken][: n_distractors - len(same)]
    return sources, same + others


def _select(
    pool: list[_Candidate], seed: int, n_sources: int, n_distractors: int
) -> tuple[list[_Candidate], list[_Candidate]]:
    """Disjoint sources and distractors, each domain's share as even as the pool allows."""
    by_domain: dict[str, list[_Candidate]] = defaultdict(list)
    for candidate in pool:
        by_domain[candidate.domain].append(candidate)
    sizes = {domain: len(items) for domain, items in by_domain.items()}
    quotas = _even_quotas(sizes, n_sources + n_distractors)
    source_quotas = _shares(quotas, n_sources)
    sources: list[_Candidate] = []
    distractors: list[_Candidate] = []
    for domain, items in sorted(by_domain.items()):
        n_domain = source_quotas[domain]
        picked = _pick(items, n_domain, quotas[domain] - n_domain, f"{seed}:pick:{domain}")
        sources += picked[0]
        distractors += picked[1]
    return sources, distractors


def _save_png(img: Image.Image, dest: Path) -> None:
    """Write through a temporary file, so an interrupted build leaves no partial image."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    img.save(tmp, format="PNG")
    tmp.replace(dest)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(path)


def _split_items(
    chosen: list[_Candidate], fraction: float, key: str, out_dir: Path, size: int
) -> tuple[list[CopyItem], list[CopyItem]]:
    """Seeded (fraction, rest) split of the chosen images, each normalised into sources/."""
    by_id = {c.id: c for c in chosen}
    sides = _seeded_split(list(by_id), fraction, key)
    items: tuple[list[CopyItem], list[CopyItem]] = ([], [])
    for side, ids in zip(items, sides, strict=True):
        for item_id in ids:
            candidate, dest = by_id[item_id], out_dir / "sources" / f"{item_id}.png"
            if not dest.exists():
                _save_png(_load(candidate, size), dest)
            side.append(CopyItem(item_id, candidate.domain, candidate.group, dest))
    return items


def _recolours_of(
    sources: list[CopyItem],
    candidates: list[_Candidate],
    verdicts: dict[str, tuple[str, str]],
    out_dir: Path,
    size: int,
) -> list[CopyItem]:
    """The pool's recolours and declared variants of these sources, normalised into sources/
    like them."""
    by_id = {item.id for item in sources}
    found = []
    for candidate in candidates:
        status, of = verdicts[candidate.id]
        if status in ("recolour", "variant") and of in by_id:
            dest = out_dir / "sources" / f"{candidate.id}.png"
            if not dest.exists():
                _save_png(_load(candidate, size), dest)
            found.append(CopyItem(candidate.id, candidate.domain, candidate.group, dest))
    return found


def plan_edits(source_ids: list[str], per_source: int, seed: int) -> list[tuple[str, str]]:
    """(source id, edit) pairs: `per_source` distinct edits each, every edit equally often.

    Position p of the stream of edits reads a seeded order of EDITS shifted by one more at every
    pass, so each pass of len(EDITS) positions holds every edit once, and a source's edits
    (consecutive positions, at most two passes) never repeat.
    """
    order = random.Random(f"{seed}:edit-order").sample(list(EDITS), len(EDITS))
    n = len(order)
    return [
        (source_id, order[(p + p // n) % n])
        for i, source_id in enumerate(source_ids)
        for p in range(i * per_source, (i + 1) * per_source)
    ]


def _write_queries(
    sources: list[CopyItem], per_source: int, seed: int, out_dir: Path
) -> list[CopyQuery]:
    """Edited copies of the sources as PNG (lossless, so JPEG artefacts stay as made)."""
    by_id = {item.id: item for item in sources}
    queries: list[CopyQuery] = []
    for source_id, edit in plan_edits(sorted(by_id), per_source, seed):
        source, dest = by_id[source_id], out_dir / "queries" / source_id / f"{edit}.png"
        if not dest.exists():
            with Image.open(source.path) as img:
                copy = EDITS[edit](img.convert("RGB"), random.Random(f"{seed}:{source_id}:{edit}"))
            _save_png(copy, dest)
        queries.append(CopyQuery(edit, source, dest))
    return queries


def _manifest_rows(dev: CopyDevSet, out_dir: Path) -> list[list[str]]:
    items = (dev.calibration, dev.references, dev.calibration_distractors, dev.distractors)
    rows = [
        [item.id, item.domain, item.group, split, "", "", item.path.relative_to(out_dir).as_posix()]
        for split, split_items in zip(ITEM_SPLITS, items, strict=True)
        for item in split_items
    ]
    for split, queries in zip(QUERY_SPLITS, (dev.calibration_queries, dev.queries), strict=True):
        for q in queries:
            source, path = q.source, q.path.relative_to(out_dir).as_posix()
            rows.append(
                [
                    f"{source.id}#{q.edit}",
                    source.domain,
                    source.group,
                    split,
                    q.edit,
                    source.id,
                    path,
                ]
            )
    return rows


def build_copy_dev(
    cache_dir: Path,
    seed: int = 0,
    size: int = SOURCE_SIZE,
    *,
    n_sources: int = 600,
    n_distractors: int = 1200,
    edits_per_source: int = 6,
    calibration_fraction: float = 1 / 6,
    roots: CopyRoots | None = None,
) -> CopyDevSet:
    """Select, normalise, split, edit and list the copy dev set under `cache_dir/copy/`.

    Sources and distractors are split into a calibration part (`calibration_fraction`; the
    product's calibration may be fitted on it and its copies) and a held-out evaluation part.
    Every choice is seeded and keyed by name. Images are reused when already present; their
    paths encode neither `size` nor `seed`, so use a fresh cache_dir for another of either.
    """
    if not 0 < edits_per_source <= len(EDITS):
        raise ValueError(f"edits_per_source must be 1..{len(EDITS)}")
    out_dir = cache_dir / "copy"
    out_dir.mkdir(parents=True, exist_ok=True)
    roots = roots or CopyRoots()
    candidates = _candidates(roots, seed)
    pool, verdicts = _pool(candidates, size, out_dir, declared_variants(roots.wallpaper_lists))
    sources, distractors = _select(pool, seed, n_sources, n_distractors)
    calibration, references = _split_items(
        sources, calibration_fraction, f"{seed}:calibration", out_dir, size
    )
    distractor_sides = _split_items(
        distractors, calibration_fraction, f"{seed}:calibration-distractors", out_dir, size
    )
    dev = CopyDevSet(
        calibration,
        references,
        _write_queries(calibration, edits_per_source, seed, out_dir),
        _write_queries(references, edits_per_source, seed, out_dir),
        *distractor_sides,
        manifest=out_dir / "manifest.csv",
        recolours=_recolours_of(references, candidates, verdicts, out_dir, size),
        pool_verdicts=dict(Counter(status for status, _ in verdicts.values())),
    )
    _write_csv(dev.manifest, _COLUMNS, _manifest_rows(dev, out_dir))
    return dev


def _print_counts(title: str, rows: list[dict[str, str]], row_key: str, col_key: str) -> None:
    """A table of row counts by two manifest (or pool) columns, splits in their usual order."""
    counts = Counter((row[row_key], row[col_key]) for row in rows)
    order = {split: k for k, split in enumerate([*ITEM_SPLITS, *QUERY_SPLITS])}
    columns = sorted({col for _, col in counts}, key=lambda c: (order.get(c, len(order)), c))
    width = max(len(c) for c in [*columns, "total"]) + 2
    print(f"{title:<14}" + "".join(f"{c:>{width}}" for c in [*columns, "total"]))
    for key in sorted({key for key, _ in counts}):
        cells = [counts[key, col] for col in columns]
        print(f"{key:<14}" + "".join(f"{n:>{width}}" for n in [*cells, sum(cells)]))


def _print_same_group(rows: list[dict[str, str]]) -> None:
    """How many distractors share a domain and group (artist, folder) with some source."""
    groups = {(r["domain"], r["group"]) for r in rows if r["split"] in ITEM_SPLITS[:2]}
    for split in ITEM_SPLITS[2:]:
        items = [r for r in rows if r["split"] == split]
        same = sum((r["domain"], r["group"]) in groups for r in items)
        print(f"{split}: {same} of {len(items)} share a source's group (same-style non-copies)")


def main(argv: list[str] | None = None) -> None:
    """CLI: build the dev set and print its counts per domain, split and edit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=Path("benchmarks/.cache"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=SOURCE_SIZE)
    parser.add_argument("--sources", type=int, default=600)
    parser.add_argument("--distractors", type=int, default=1200)
    parser.add_argument("--edits-per-source", type=int, default=6)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    dev = build_copy_dev(
        args.cache,
        args.seed,
        args.size,
        n_sources=args.sources,
        n_distractors=args.distractors,
        edits_per_source=args.edits_per_source,
    )
    elapsed = time.perf_counter() - start
    with (dev.manifest.parent / "pool.csv").open(newline="") as fh:
        _print_counts("pool", list(csv.DictReader(fh)), "domain", "status")
    with dev.manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    _print_counts("domain", rows, "domain", "split")
    _print_counts("edit", [r for r in rows if r["edit"]], "edit", "split")
    _print_same_group(rows)
    print(f"built in {elapsed:.0f} s; manifest: {dev.manifest}")


if __name__ == "__main__":
    main()
