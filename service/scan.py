"""Batch scans: score every image of a folder, CSV manifest or list on stdin against the
library, writing one JSON line per image. Resumable: images already in the output are
skipped, and a line cut off by a crash is discarded before appending."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from tqdm import tqdm

from models.errors import ImageError, ImageTooLarge, MissingImage, UnsupportedImage
from models.images import LoadedImage, load_image_file
from models.stages import StageTotals, recording, stage
from service.matching import MatchOptions
from service.pipeline import decoded_batches
from service.registration import IMAGE_SUFFIXES, manifest_rows, utf8_lines
from service.runtime import Runtime
from service.scan_report import is_result_line, json_text
from service.schemas import MatchResult

log = logging.getLogger(__name__)


@dataclass
class ScanSummary:
    """Counts of one scan run, its rate and where its time went (seconds per stage, summed
    over threads: decoding runs beside the models)."""

    scanned: int = 0
    skipped: int = 0
    errors: int = 0
    seconds: float = 0.0
    images_per_second: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    not_images: dict[str, int] = field(default_factory=dict)  # a folder's other files


def scan_inputs(
    source: str, stdin: TextIO | None = None, not_images: Counter[str] | None = None
) -> Iterator[Path]:
    """Image paths from a folder (recursive), a CSV with a `path` column, a JSONL manifest
    of {"path": ...} objects, or '-' (a list on stdin). Relative manifest paths are read
    from the manifest's folder. A folder's files that are not images (by their suffix) are
    left out and counted in `not_images` by suffix."""
    if source == "-":
        yield from (Path(line.strip()) for line in stdin or sys.stdin if line.strip())
        return
    root = Path(source)
    if not root.exists():
        raise ValueError(f"{source}: no such folder or manifest")
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                yield path
            elif path.is_file() and not_images is not None:
                not_images[path.suffix.lower() or "(no suffix)"] += 1
    elif root.suffix.lower() in (".csv", ".jsonl"):
        listed = (
            (Path(row["path"] or "") for _, row in manifest_rows(root, {"path"}))
            if root.suffix.lower() == ".csv"
            else _jsonl_paths(root)
        )
        empty = True
        for path in listed:
            empty = False
            yield path if path.is_absolute() else root.parent / path
        if empty:  # as an HTTP scan answers
            raise ValueError(f"{source}: the manifest lists no paths")
    else:
        raise ValueError(f"{source}: not a folder, a .csv or .jsonl manifest, or '-'")


def _jsonl_paths(manifest: Path) -> Iterator[Path]:
    with manifest.open("rb") as fh:
        for number, line in enumerate(utf8_lines(fh, lambda n: f"{manifest}:{n}"), 1):
            if not line.strip():
                continue
            try:
                yield Path(json.loads(line)["path"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(
                    f"{manifest}:{number}: each line must be a JSON object with a 'path'"
                ) from exc


PARTIAL_LINE = b'{"path": '  # how every line a scan writes begins (scan_lines)


def done_paths(out: Path) -> set[str]:
    """What an output file holds, as `to_scan` compares it (each line's `real:` path, or
    for lines written before real paths its `path:`); drops a trailing partial line (a scan
    cut short). A file with other lines than a scan's is refused before it is touched."""
    if not out.exists():
        return set()
    data = out.read_bytes()
    cut = data.rfind(b"\n") + 1
    done = set()
    for number, line in enumerate(data[:cut].splitlines(), 1):
        if not line.strip():
            continue
        try:
            parsed: Any = json.loads(line)
        except ValueError:
            parsed = None
        if not is_result_line(parsed):
            raise ValueError(
                f"{out}:{number}: not a line of a scan's output; --out takes a new file or "
                "an earlier scan's output to resume"
            )
        real = parsed.get("real_path")
        done.add(f"real:{real}" if isinstance(real, str) else f"path:{parsed['path']}")
    if cut < len(data):
        if not data[cut:].startswith(PARTIAL_LINE):
            raise ValueError(f"{out}: ends in a line a scan did not begin; give --out a new file")
        with out.open("r+b") as fh:
            fh.truncate(cut)
    return done


def unique(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """The paths in order, each file once, with its `real_path` (a manifest may name one file
    twice, or by two spellings)."""
    seen: set[str] = set()
    once = []
    for path in paths:
        if (real := real_path(path)) not in seen:
            seen.add(real)
            once.append((path, real))
    return once


def to_scan(paths: Iterable[Path], out: Path) -> tuple[list[Path], int]:
    """The paths `out` does not hold yet (by the file each names), each once, and how many
    listed it skips (held, or named again)."""
    done = done_paths(out)
    listed = list(paths)
    todo = [p for p, real in unique(listed) if not {f"real:{real}", f"path:{_text(p)}"} & done]
    return todo, len(listed) - len(todo)


def run_scan(
    runtime: Runtime,
    paths: Iterable[Path],
    out: Path,
    top_k: int | None = None,
    progress: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> ScanSummary:
    """Match every image not yet in `out`, appending results as JSON lines; `on_batch` hears
    how many images each written batch held."""
    todo, skipped = to_scan(paths, out)
    summary = ScanSummary(skipped=skipped)
    opts = runtime.options(top_k)
    limits = runtime.settings.limits
    s = runtime.settings
    totals = StageTotals()

    def decode(path: Path) -> LoadedImage:
        with recording(totals):  # worker threads do not inherit the scan's context
            return load_image_file(path, limits)

    started = time.perf_counter()
    with (
        out.open("a") as fh,
        tqdm(total=len(todo), unit="img", disable=not progress) as bar,
        recording(totals),
    ):
        for batch in decoded_batches(todo, decode, s.batch_size, s.decode_workers):
            lines = scan_lines(runtime, batch, opts)
            with stage("write"):
                for line in lines:
                    fh.write(line.text + "\n")
                fh.flush()
            summary.errors += sum(line.error for line in lines)
            summary.scanned += len(batch)
            bar.update(len(batch))
            if on_batch is not None:
                on_batch(len(batch))
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.images_per_second = round(summary.scanned / max(summary.seconds, 1e-9), 3)
    summary.stage_seconds = {k: round(v, 3) for k, v in sorted(totals.seconds.items())}
    return summary


class ScanLine(NamedTuple):
    """One output line (JSON, without its newline), and whether it reports an error."""

    text: str
    error: bool


def scan_lines(
    runtime: Runtime, batch: list[tuple[Path, LoadedImage | Exception]], opts: MatchOptions
) -> list[ScanLine]:
    """One JSON line per image of a decoded batch, in order: its match result, or the
    reason it could not be read."""
    good = [(p, img) for p, img in batch if isinstance(img, LoadedImage)]
    results = _matched(runtime, [img for _, img in good], opts)
    by_path = {
        str(p): r.model_dump(mode="json") if isinstance(r, MatchResult) else _error(r)
        for (p, _), r in zip(good, results, strict=True)
    }
    lines = []
    for path, img in batch:
        body = by_path.get(str(path)) or _error(img)
        line = {"path": _text(path), "real_path": real_path(path), **body}
        lines.append(ScanLine(json.dumps(line), "error" in body))
    return lines


def _matched(
    runtime: Runtime, images: list[LoadedImage], opts: MatchOptions
) -> list[MatchResult | Exception]:
    """The batch's match results; where matching the batch fails, each image is matched
    alone, so one image's failure is its own error line, not the batch's or the scan's."""
    try:
        return list(runtime.matcher.match(images, opts))
    except Exception:
        log.exception("matching a batch of %d failed; matching its images one by one", len(images))
    results: list[MatchResult | Exception] = []
    for image in images:
        try:
            results.append(runtime.matcher.match([image], opts)[0])
        except Exception as exc:  # logged, and reported on the image's line
            log.exception("matching one image failed")
            results.append(MatchFailed(f"matching this image failed: {exc}"))
    return results


class MatchFailed(Exception):
    """An image that decoded but could not be matched (its line says why)."""


def _text(path: Path) -> str:
    return json_text(str(path))


def real_path(path: Path) -> str:
    """The file a line was scanned from, absolute with symlinks resolved: what resume
    compares, so `scan DIR`, `scan $PWD/DIR`, `cd DIR; scan .` and a link to DIR continue
    one another's output. Exact: a backslash is doubled, so `\\xNN` standing for a byte that
    is not UTF-8 never reads as a name that holds those four characters."""
    raw = os.fsencode(os.path.realpath(path)).replace(b"\\", b"\\\\")
    return raw.decode("utf-8", "backslashreplace")


ERROR_CODES: tuple[tuple[type[Exception], str], ...] = (  # as the HTTP API names them
    (ImageTooLarge, "image_too_large"),
    (MissingImage, "file_not_found"),
    (UnsupportedImage, "unsupported_image"),  # not an image, or damaged
    (ImageError, "invalid_image"),
    (OSError, "unreadable_file"),  # permissions, an I/O error
    (MatchFailed, "match_failed"),
)


def _error(exc: object) -> dict[str, object]:
    """An error line's body: a code for the kind of failure (a summary counts by it) and
    the message."""
    code = next((c for cls, c in ERROR_CODES if isinstance(exc, cls)), "error")
    return {"error": {"code": code, "message": json_text(str(exc))}}
