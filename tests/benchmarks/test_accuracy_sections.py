"""The accuracy benchmark's sections: only the default profile on every set writes the
`accuracy` tables; a trial of another profile or of some sets writes its own."""

from __future__ import annotations

from benchmarks.accuracy import render, section_name


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
