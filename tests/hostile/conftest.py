"""Prints the hostile-input tally (requests tried, 5xx seen) at the end of the run."""

from __future__ import annotations

import pytest

from tests.hostile import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if tally.SENT:
        terminalreporter.write_line(tally.summary())
        for line in tally.SERVER_ERRORS:
            terminalreporter.write_line(f"  5xx: {line}")
