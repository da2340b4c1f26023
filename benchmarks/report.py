"""Writing benchmark results: markdown tables, and named sections of benchmarks/RESULTS.md
that each benchmark replaces without touching the others."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from models.registry import load_profile

RESULTS = Path(__file__).parent / "RESULTS.md"  # accuracy (issue 4)
PERF = Path(__file__).parent / "PERF.md"  # speed, scale and load (issues 6 and 7)
OUT = Path(__file__).parent / "out"
HEADER = (
    "# styletrace benchmark results\n\nWritten by `make bench`; each section by its script, "
    "which ends it with the day and commit it was measured at.\n"
)
# results and prose (RESULTS, PERF, WATERMARK, HISTORY, plots): changes to them do not make
# a measurement's commit unclean
_WRITTEN = (":(top,exclude)benchmarks/*.md", ":(top,exclude)benchmarks/*.png")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table; floats are printed with 3 decimals, and a `|` inside a label is
    escaped (unescaped, it would split the cell, and in a header break the table)."""

    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line describing where the numbers were taken."""
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def measured_at(where: Path = Path(__file__).parent, today: date | None = None) -> str:
    """The day and the commit (of the checkout at `where`) a section is measured at; a
    commit with changes to tracked files (other than the results themselves) says so, and
    outside git it is unknown."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=where, capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ":(top)", *_WRITTEN)
        commit = f"commit {commit}" + (" with uncommitted changes" if changed else "")
    except (OSError, subprocess.SubprocessError):
        commit = "an unknown commit (not a git checkout)"
    return f"_Measured {(today or date.today()).isoformat()} at {commit}._"


def write_section(name: str, markdown: str, data: dict[str, Any], path: Path = RESULTS) -> None:
    """Replace (or append) the section `name` in RESULTS.md, ended by when and at which
    commit it was measured, and dump `data` as JSON."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else HEADER
    block = f"{start}\n{markdown.strip()}\n\n{measured_at()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
    OUT.mkdir(exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(data, indent=1, default=str))


def profile_arg(parser: argparse.ArgumentParser) -> None:
    """The --profile option of a benchmark that measures a model profile."""
    parser.add_argument("--profile", default="default", help="model profile (name or path)")


def profile_name(parser: argparse.ArgumentParser, profile: str) -> str:
    """The profile's name; a trial profile named default is refused: its tables would
    overwrite the default's."""
    name = load_profile(profile).name
    if name == "default" and profile != "default":
        parser.error(f"{profile} is named default: a trial profile needs its own name")
    return name


def profiled(section: str, name: str) -> str:
    """A section for the default profile, or its trial twin SECTION-NAME for another."""
    return section if name == "default" else f"{section}-{name}"


def profile_flag(name: str) -> str:
    """What a command line adds to measure the profile `name`."""
    return "" if name == "default" else f" --profile {name}"
