"""Each RESULTS section ends with the day and commit it was measured at, and says when the
code measured was not that commit's."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from benchmarks import report
from benchmarks.report import measured_at, write_section

DAY = date(2026, 12, 3)


def _git(repo: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
    return subprocess.run(cmd, cwd=repo, check=True, capture_output=True, text=True).stdout


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "RESULTS.md").write_text("# results\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "first")
    return tmp_path


def test_a_clean_checkout_names_its_commit_and_results_do_not_dirty_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    head = _git(repo, "rev-parse", "--short=12", "HEAD").strip()
    (repo / "benchmarks" / "RESULTS.md").write_text("# results\nan earlier section\n")
    (repo / "notes.txt").write_text("untracked\n")
    where = repo / "benchmarks"
    assert measured_at(where, DAY) == f"_Measured 2026-12-03 at commit {head}._"
    (repo / "code.py").write_text("x = 2\n")
    assert measured_at(where, DAY).endswith(f"commit {head} with uncommitted changes._")


def test_outside_git_the_commit_is_unknown(tmp_path: Path) -> None:
    assert "an unknown commit" in measured_at(tmp_path, DAY)


def test_a_section_ends_with_its_stamp_and_replaces_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "OUT", tmp_path / "out")
    results = tmp_path / "RESULTS.md"
    write_section("probe", "### A probe\n\nold", {}, results)
    write_section("probe", "### A probe\n\nnew", {}, results)
    text = results.read_text()
    assert text.count("<!-- probe:start -->") == 1 and "old" not in text
    body = text.split("<!-- probe:start -->")[1].split("<!-- probe:end -->")[0]
    assert body.strip().splitlines()[-1].startswith("_Measured ")
    assert (tmp_path / "out" / "probe.json").exists()
