"""The accuracy benchmark's sections: only the default profile on every set writes the
`accuracy` tables; a trial of another profile or of some sets writes its own; recall tables
by edit or by domain."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.accuracy import Predictions, copy_rows, recall_table, render, section_name
from benchmarks.report import profile_arg, profile_flag, profile_name, profiled


def test_only_the_default_profile_on_every_set_writes_the_accuracy_section() -> None:
    assert section_name("default", ["copy", "style"]) == "accuracy"
    assert section_name("default", ["copy"]) == "accuracy-default-copy"
    assert section_name("greylow", ["copy", "style"]) == "accuracy-greylow-style-copy"


def test_a_trial_profile_writes_its_own_sections_and_may_not_be_named_default(
    tmp_path: Path,
) -> None:
    assert (profiled("unseen_edits", "default"), profile_flag("default")) == ("unseen_edits", "")
    assert profiled("unseen_domain", "greylow") == "unseen_domain-greylow"
    assert profile_flag("greylow") == " --profile greylow"
    parser = argparse.ArgumentParser()
    profile_arg(parser)
    assert profile_name(parser, parser.parse_args([]).profile) == "default"
    assert profile_name(parser, "greylow") == "greylow"
    shipped = json.loads(Path("models/profiles/default.json").read_text())
    impostor = tmp_path / "trial.json"
    impostor.write_text(json.dumps(shipped))  # a copy still named default
    with pytest.raises(SystemExit):
        profile_name(parser, str(impostor))


def test_a_trial_section_names_its_profile_and_plot_and_needs_no_copy_set() -> None:
    results = {"profile": "greylow", "style": {}, "timings": {}, "seconds": 1.0}
    text = render(results, "accuracy-greylow-style")
    assert "profile `greylow`" in text and "benchmarks/accuracy-greylow-style.png" in text
    assert "Copy detection" not in text
    assert "profile" not in render(results).splitlines()[0]


def test_recall_tables_put_labels_in_rows_and_methods_in_columns() -> None:
    queries = Predictions(np.array([3.0, 2.0, 0.1]), ["a", "b", "x"])
    negatives = Predictions(np.full(100, 1.0), ["a"] * 100)
    domains = ["photo (1)", "clipart (2)", "clipart (2)"]
    rows = copy_rows("m", queries, ["a", "b", "c"], domains, negatives)
    assert [r[1] for r in rows] == ["clipart (2)", "photo (1)", "all"]
    lines = recall_table("domain", rows).splitlines()
    assert lines[0] == "| domain | m |"
    assert lines[2:] == ["| clipart (2) | 0.500 |", "| photo (1) | 1.000 |", "| all | 0.667 |"]


def test_the_verdict_table_counts_only_verdicts_on_the_true_source() -> None:
    from benchmarks.accuracy import verdict_rows

    firsts = [("a", "match"), ("b", "possible"), ("x", "match"), ("", "none")]
    truth, edits = ["a", "b", "c", "d"], ["blur", "blur", "crop50", "crop50"]
    assert verdict_rows(firsts, truth, edits) == [
        ["blur", 2, 0.5, 1.0],
        ["crop50", 2, 0.0, 0.0],  # a match on another work is no verdict on the source
        ["all", 4, 0.25, 0.5],
    ]
