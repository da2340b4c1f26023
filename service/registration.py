"""Registration inputs: a directory laid out as DIR/<creator_id>/<file>, or a CSV manifest
(creator_id,work_id,path[,extra metadata columns]); turning bytes into a Submission."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from indexer.ids import check_creator_id, check_work_id
from indexer.spaces import Submission
from models.errors import FeaturelessImage
from models.images import ImageLimits, load_image_bytes

MANIFEST_ENCODING = "utf-8-sig"  # UTF-8; a byte-order mark (as spreadsheets write) is dropped
FLAT_SPREAD = 4  # levels per channel within which an image counts as one flat colour
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff", ".bmp"}


@dataclass(frozen=True)
class WorkSource:
    """Where a work to register comes from, before its bytes are read."""

    creator_id: str
    work_id: str
    path: Path
    meta: dict[str, object] = field(default_factory=dict)
    line: int | None = None  # its manifest line, where it came from one


def from_directory(root: Path) -> Iterator[WorkSource]:
    """DIR/<creator_id>/<file...>: creator = first folder, work id = path relative to DIR."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (
            path.is_file()
            and len(rel.parts) >= 2
            and path.suffix.lower() in IMAGE_SUFFIXES
            and not any(p.startswith(".") for p in rel.parts)
        ):
            yield WorkSource(rel.parts[0], rel.as_posix(), path)


def utf8_lines(data: Iterable[bytes], line_at: Callable[[int], str]) -> Iterator[str]:
    """The lines of UTF-8 text (a byte-order mark may open it), each decoded on its own, so
    that text that is not UTF-8 is refused naming its own line, as `line_at(number)` says
    (lines end at \\n, \\r\\n or \\r, as csv counts them)."""
    number = 0
    for chunk in data:
        for raw in chunk.splitlines(keepends=True):
            number += 1
            try:
                yield raw.decode(MANIFEST_ENCODING if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{line_at(number)}: not UTF-8 text ({exc})") from exc


def csv_rows(
    lines: Iterable[str], needed: set[str], line_at: Callable[[int], str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of CSV text that has the `needed` columns (a row's number is the
    line it ends on: blank lines and quoted line breaks count); text that is not such a CSV
    is refused with a ValueError naming the line as `line_at(number)` says (a file's path
    and line, an upload's line)."""
    reader = csv.DictReader(lines)
    try:
        if reader.fieldnames:  # a column without a name is named by its place, not dropped
            reader.fieldnames = [n or f"column {i}" for i, n in enumerate(reader.fieldnames, 1)]
        header = list(reader.fieldnames or [])
        missing = needed - set(header)
        if missing:
            raise ValueError(f"{line_at(1)}: missing column(s) {', '.join(sorted(missing))}")
        twice = sorted({name for name in header if header.count(name) > 1})
        if twice:
            raise ValueError(f"{line_at(1)}: column(s) named twice: {', '.join(twice)}")
        for row in reader:
            if None in row:  # more fields than the header names: an unquoted comma, say
                raise ValueError(
                    f"{line_at(reader.line_num)}: {len(header) + len(row[None])} fields, but "
                    f"the header names {len(header)} (quote a value that holds a comma)"
                )
            yield reader.line_num, row
    except csv.Error as exc:  # a field over csv's size limit, a NUL
        at = reader.line_num + 1  # the line being read when it failed
        raise ValueError(f"{line_at(at)}: not a readable CSV ({exc})") from exc


def manifest_rows(manifest: Path, needed: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV manifest file (UTF-8, with or without a byte-order mark)
    that has the `needed` columns (`csv_rows`)."""
    with manifest.open("rb") as fh:

        def where(line: int) -> str:
            return f"{manifest}:{line}"

        yield from csv_rows(utf8_lines(fh, where), needed, where)


def from_manifest(manifest: Path) -> Iterator[WorkSource]:
    """CSV with columns creator_id,work_id,path; relative paths are relative to the CSV. Its
    other columns are kept with the work as given, under `columns` (never read as anything
    the service sets itself, such as warnings or terms)."""
    needed = {"creator_id", "work_id", "path"}
    for line, row in manifest_rows(manifest, needed):
        if not all(row.get(k) for k in needed):
            raise ValueError(f"{manifest}:{line}: creator_id, work_id and path are required")
        path = Path(row["path"])
        extra = {k: v for k, v in row.items() if k not in needed and k and v}
        yield WorkSource(
            row["creator_id"],
            row["work_id"],
            path if path.is_absolute() else manifest.parent / path,
            {"columns": extra} if extra else {},
            line,
        )


def submission(
    data: bytes,
    creator_id: str,
    work_id: str,
    source: str,
    limits: ImageLimits,
    meta: Mapping[str, object] | None = None,
) -> Submission:
    """Validate ids, decode the bytes with the safe loader, and keep what the file says
    about itself, with a warning when its metadata names someone else as the creator."""
    check_creator_id(creator_id)
    work_id = check_work_id(work_id)
    loaded = load_image_bytes(data, limits)
    refuse_flat(loaded.image)
    facts = loaded.provenance or {}
    extra: dict[str, object] = {"provenance": facts} if facts else {}
    named = facts.get("metadata", {}).get("creator", "")
    if named and not same_person(named, creator_id):
        extra["warnings"] = [
            f"the file's metadata names {named[:80]!r} as its creator, not {creator_id!r}"
        ]
    return Submission(
        creator_id, work_id, loaded.image, data, loaded.sha256, source, dict(meta or {}) | extra
    )


def refuse_flat(image: Image.Image, spread: int = FLAT_SPREAD) -> None:
    """FeaturelessImage when every pixel is one colour, give or take `spread` levels (JPEG's
    noise on a fill): as a work, it would be a copy of every plain image of that colour."""
    lows, highs = zip(*image.convert("RGB").getextrema(), strict=True)
    if max(h - low for low, h in zip(lows, highs, strict=True)) <= spread:
        colour = "#" + "".join(f"{(low + h) // 2:02x}" for low, h in zip(lows, highs, strict=True))
        raise FeaturelessImage(
            f"the image is one flat colour ({colour}): registered, it would match every plain "
            "image of that colour, so it is not registered"
        )


def same_person(named: str, creator_id: str) -> bool:
    """Does a free-text creator name plausibly denote this creator id? Letters and digits
    only, case-folded, one containing the other ('Jean-Victor Balin' ~ 'jean-victor-balin')."""
    a, b = (re.sub(r"[^0-9a-z]", "", x.casefold()) for x in (named, creator_id))
    return bool(a and b) and (a in b or b in a)
