"""The accuracy benchmark's sections: only the default profile on every set writes the
`accuracy` tables; a trial of another profile or of some sets writes its own; recall tables
by edit or by domain."""

from __future__ import annotations

import numpy as np

from benchmarks.accuracy import Predictions, copy_rows, recall_table, render, section_name


def test_only_the_default_profile_on_every_set_writes_the_accuracy_section() -> None:
    assert section_name("default", ["copy", "style"]) == "accuracy"
    assert section_name("default", ["copy"]) == "accuracy-default-copy"
    assert section_name("greylow", ["copy", "style"]) == "accuracy-greylow-style-copy"


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
