"""Counts of what the hostile tests sent and how the server answered, for the closing summary."""

from __future__ import annotations

from collections import Counter

SENT: Counter[str] = Counter()  # requests per test area
STATUS: Counter[int] = Counter()  # answers by status code
SERVER_ERRORS: list[str] = []  # "area: what was sent -> status", for every 5xx


def record(area: str, what: str, status: int) -> None:
    """Count one hostile request and its answer."""
    SENT[area] += 1
    STATUS[status] += 1
    if status >= 500:
        SERVER_ERRORS.append(f"{area}: {what} -> {status}")


def summary() -> str:
    """One line: requests tried, 5xx seen, answers by status."""
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(STATUS.items()))
    return (
        f"hostile inputs: {sum(SENT.values())} requests tried, {len(SERVER_ERRORS)} 5xx seen "
        f"({statuses})"
    )
