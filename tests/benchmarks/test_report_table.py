"""Markdown tables of the results: a `|` inside a label stays inside its cell."""

from __future__ import annotations

import re

from benchmarks.report import table


def _cells(line: str) -> list[str]:
    """A table row's cells as markdown splits them (on pipes not escaped)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def test_a_pipe_in_a_label_is_escaped_in_headers_and_rows() -> None:
    text = table(["rate", "content match|possible"], [["style match|possible", 0.25], ["x", 1]])
    header, delimiter, *rows = text.split("\n")
    assert [len(_cells(line)) for line in (header, *rows)] == [2, 2, 2]
    assert delimiter == "|---|---|"
    assert _cells(rows[0]) == ["style match\\|possible", "0.250"] and _cells(rows[1]) == ["x", "1"]
