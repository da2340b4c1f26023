"""What a scan found, read back from its JSON lines (so a resumed scan reports the whole
output, not only the last run): counts per verdict, the creators matched most, errors by
reason; the same lines flattened into a CSV for spreadsheets; and pages of them by kind."""

from __future__ import annotations

import csv
import json
import re
import threading
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Show = Literal["hits", "errors", "all"]
HITS = ("match", "possible")

TOP_CREATORS = 20
ERROR_EXAMPLES = 5
CSV_COLUMNS = (
    "path",
    "content_verdict",
    "content_calibrated",
    "content_upper",
    "content_work_id",
    "content_creator_id",
    "style_verdict",
    "style_calibrated",
    "style_upper",
    "style_creator_id",
    "policy",
    "ai_declared",
    "error",
    "error_code",
)


ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")  # as json_text writes a byte of a name


def json_text(text: str) -> str:
    """`text` as valid UTF-8: bytes of a file name that are not UTF-8 (which Python keeps
    as lone surrogates) are written as `\\xNN` escapes, as `ls -b` shows them."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name produced (from JSON, say)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def file_name(text: str) -> str:
    """The file name `json_text` wrote as `text`: each `\\xNN` escape of a byte over 0x7F
    back to the lone surrogate Python reads that byte of a name as."""
    return ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m[1], 16)), text)


def is_result_line(line: object) -> bool:
    """Whether a parsed output line is one a scan writes: a path with its result or error."""
    if not isinstance(line, dict) or not isinstance(line.get("path"), str):
        return False
    if "error" in line:
        return isinstance(line["error"], dict)
    return all(isinstance(line.get(k), dict) for k in ("content", "style"))


def _lines(out: Path) -> Iterator[dict[str, Any]]:
    """The output's complete lines (a scan still writing may have begun the next one)."""
    with out.open() as fh:
        for line in fh:
            if not line.endswith("\n"):
                break
            if line.strip():
                yield _readable(json.loads(line))


def _readable(line: dict[str, Any]) -> dict[str, Any]:
    """A line with its path and error message as valid UTF-8 (scans before this wrote a
    file name that is not UTF-8 as lone surrogates, which no JSON answer can carry)."""
    line["path"] = json_text(line["path"])
    if isinstance(line.get("error"), dict) and isinstance(line["error"].get("message"), str):
        line["error"]["message"] = json_text(line["error"]["message"])
    return line


def summarise(out: Path) -> dict[str, Any]:
    """Counts per content and style verdict, top creators by match verdicts, errors."""
    content: Counter[str] = Counter()
    style: Counter[str] = Counter()
    creators: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    images = 0
    for line in _lines(out):
        images += 1
        if "error" in line:
            reason = line["error"].get("code", "error")
            errors[reason] += 1
            examples.setdefault(reason, [])
            if len(examples[reason]) < ERROR_EXAMPLES:
                examples[reason].append(f"{line['path']}: {line['error'].get('message', '')}")
            continue
        content[line["content"]["verdict"]] += 1
        style[line["style"]["verdict"]] += 1
        found = {m["creator_id"] for m in line["content"]["matches"] if m["verdict"] == "match"}
        found |= {c["creator_id"] for c in line["style"]["creators"] if c["verdict"] == "match"}
        creators.update(found)
    return {
        "images": images,
        "content_verdicts": dict(content),
        "style_verdicts": dict(style),
        "top_creators": [
            {"creator_id": c, "images": n} for c, n in creators.most_common(TOP_CREATORS)
        ],
        "errors": {r: {"count": n, "examples": examples[r]} for r, n in errors.items()},
    }


def flat_row(line: dict[str, Any]) -> dict[str, Any]:
    """One JSON line as a CSV row: the best content match and style creator, or the error."""
    if "error" in line:
        error = line["error"]
        return {
            "path": line["path"],
            "error": error.get("message", ""),
            "error_code": error.get("code", ""),
        }
    best = line["content"]["matches"][0] if line["content"]["matches"] else {}
    creator = line["style"]["creators"][0] if line["style"]["creators"] else {}
    return {
        "path": line["path"],
        "content_verdict": line["content"]["verdict"],
        "content_calibrated": line["content"]["calibrated"],
        "content_upper": line["content"].get("upper", ""),  # absent from older scans
        "content_work_id": best.get("work_id", ""),
        "content_creator_id": best.get("creator_id", ""),
        "style_verdict": line["style"]["verdict"],
        "style_calibrated": line["style"]["calibrated"],
        "style_upper": line["style"].get("upper", ""),
        "style_creator_id": creator.get("creator_id", ""),
        "policy": (line.get("policy") or {}).get("resolved", ""),
        "ai_declared": ((line.get("provenance") or {}).get("ai_generated") or {}).get(
            "declared", ""
        ),
    }


def flat_rows(out: Path) -> Iterator[dict[str, Any]]:
    """Every complete line of the output as a CSV row."""
    return (flat_row(line) for line in _lines(out))


def to_csv(out: Path, target: Path) -> int:
    """Write one CSV row per JSON line; returns the number of rows."""
    rows = 0
    with target.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, CSV_COLUMNS)
        writer.writeheader()
        for row in flat_rows(out):
            writer.writerow(row)
            rows += 1
    return rows


def shows(row: dict[str, Any]) -> list[Show]:
    """The lists a flattened row belongs to: every row is in `all`; an error in `errors`; a
    content or style verdict of match or possible in `hits`."""
    kinds: list[Show] = ["all"]
    if "error_code" in row:  # an error line, whatever its message
        kinds.append("errors")
    elif row.get("content_verdict") in HITS or row.get("style_verdict") in HITS:
        kinds.append("hits")
    return kinds


@dataclass
class RowIndex:
    """Where each complete line of one scan output starts, by the lists it belongs to,
    grown as the output grows: a page reads its own lines, not the whole file before it."""

    end: int = 0  # bytes of the output indexed so far (whole lines only)
    starts: dict[str, array[int]] = field(
        default_factory=lambda: {kind: array("q") for kind in ("hits", "errors", "all")}
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def page(
        self, out: Path, show: Show, offset: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many rows `show` holds, and `limit` of them from `offset`, flattened."""
        with self.lock, out.open("rb") as fh:
            if out.stat().st_size < self.end:  # another output under the same name
                self.end, self.starts = 0, RowIndex().starts
            self._grow(fh)
            picked = self.starts[show][offset : offset + limit]
            rows = []
            for start in picked:
                fh.seek(start)
                rows.append(flat_row(_readable(json.loads(fh.readline()))))
            return len(self.starts[show]), rows

    def _grow(self, fh: Any) -> None:
        fh.seek(self.end)
        at = self.end
        for raw in fh:
            if not raw.endswith(b"\n"):  # a line still being written
                break
            if raw.strip():
                for kind in shows(flat_row(_readable(json.loads(raw)))):
                    self.starts[kind].append(at)
            at += len(raw)
        self.end = at
