"""Consent terms: defaults, validation, per-work overrides, and the most restrictive policy
among match verdicts deciding, with its reason."""

import pytest
from pydantic import ValidationError

from service.consent import Terms, TermsOverride, effective, pinned, resolve
from service.schemas import AppliedPolicy


def test_defaults_are_no_training_and_track() -> None:
    terms = effective({})
    assert (terms.training_allowed, terms.policy, terms.revshare_rate) == (False, "track", None)


@pytest.mark.parametrize(
    "bad",
    [
        {"policy": "revshare"},
        {"policy": "revshare", "revshare_rate": 0},
        {"policy": "revshare", "revshare_rate": 1.5},
        {"policy": "track", "revshare_rate": 0.1},
        {"policy": "delete-everything"},
        {"surprise": True},
        {"training_allowed": "yes"},  # found by QA: an opt-in read "yes" and 1 as consent
        {"training_allowed": 1},
        {"policy": "revshare", "revshare_rate": float("nan")},
    ],
)
def test_invalid_terms_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Terms.model_validate(bad)


@pytest.mark.parametrize("bad", [{"training_allowed": "yes"}, {"revshare_rate": float("nan")}])
def test_invalid_overrides_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TermsOverride.model_validate(bad)


def test_a_rate_that_is_not_a_number_is_called_so() -> None:
    with pytest.raises(ValidationError, match="finite number"):
        Terms.model_validate({"policy": "revshare", "revshare_rate": float("nan")})


@pytest.mark.parametrize(
    "field,text,code",
    [
        ("credit", "Alice\x00", "U+0000"),
        ("credit", "Alice\nBob", "U+000A"),
        ("credit", "\u202eecilA", "U+202E"),  # a right-to-left override: displays as "Alice"
        ("licence_url", "https://example.org/\x1b[2J", "U+001B"),
        ("licence", "CC BY\x07", "U+0007"),
        ("licence", "CC BY\uffff", "U+FFFF"),
        ("credit", "Alice\u2028Bob", "U+2028"),  # found by QA: Unicode's line break passed
        ("credit", "Ali\u200bce", "U+200B"),  # zero-width space: prints as "Alice"
        ("credit", "\u061cAlice", "U+061C"),  # an Arabic letter mark
        ("licence_url", "https://example.org/\u200e", "U+200E"),
        ("licence", "CC\u00adBY", "U+00AD"),
        ("credit", "a\u034fb", "U+034F"),  # found by QA: a combining grapheme joiner
        ("credit", "a\u206ab", "U+206A"),
        ("credit", "alice\U000e0062\U000e006f\U000e0062", "U+E0062"),  # prints as "alice"
        ("credit", "\u2800", "prints as nothing"),  # the braille blank
        ("credit", "\u0301", "prints as nothing"),  # a mark with nothing to mark
    ],
)
def test_terms_text_refuses_characters_metadata_cannot_carry(
    field: str, text: str, code: str
) -> None:
    with pytest.raises(ValidationError, match=code.replace("+", "\\+")):
        Terms.model_validate({field: text})
    with pytest.raises(ValidationError, match=code.replace("+", "\\+")):
        TermsOverride.model_validate({field: text})


def test_terms_text_keeps_what_people_write() -> None:
    terms = Terms.model_validate(
        {
            "credit": "Zoë\u00a0Ndiaye 👩\u200d🎨 (עברית) "  # England's flag, Persian ZWNJ
            "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
            " \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
            "licence": "CC BY 4.0\n\tAttribution required\r\n",
            "licence_url": "https://creativecommons.org/licenses/by/4.0/",
        }
    )
    assert terms.credit.startswith("Zoë\u00a0") and terms.licence.count("\n") == 2
    assert effective(terms.model_dump()).credit == terms.credit  # England's flag read back whole


def test_terms_stored_before_the_check_still_read() -> None:
    """Terms saved before the text check (with a NUL, a bidi override) read with those
    characters dropped, rather than failing every match of the creator."""
    terms = effective({"credit": "Ali\x00ce", "policy": "takedown"}, {"licence": "\u202eX\nY"})
    assert (terms.credit, terms.licence, terms.policy) == ("Alice", "X\nY", "takedown")
    assert effective({"credit": "Alice\nBob", "licence_url": "https://a\t"}).credit == "Alice Bob"
    assert (
        effective({"credit": "Ali\u200bce\u2028Bob", "licence": "A\u2029B"}).credit == "Alice Bob"
    )
    assert effective({"licence": "A\u2029B\u200e"}).licence == "A\u2029B"


def test_work_overrides_win_and_keep_the_creator_rate() -> None:
    creator = {"policy": "revshare", "revshare_rate": 0.3, "credit": "Alice"}
    assert effective(creator, {"policy": "takedown"}).revshare_rate is None
    assert effective(creator, {"credit": "Alice, 2024"}).credit == "Alice, 2024"
    assert effective({"policy": "track"}, {"policy": "revshare", "revshare_rate": 0.1}).policy == (
        "revshare"
    )
    assert effective(creator, {"policy": None}).policy == "revshare"


def test_a_work_put_on_revshare_keeps_its_rate_whatever_its_creator_does() -> None:
    """Found by QA: {"policy": "revshare"} on a work, then its creator off revshare, and
    every match, claim and scan meeting that work was a 500 (its terms could not be read)."""
    creator = {"policy": "revshare", "revshare_rate": 0.3}
    stored = pinned(creator, {"policy": "revshare"})
    assert stored == {"policy": "revshare", "revshare_rate": 0.3}
    assert effective({"policy": "takedown"}, stored).revshare_rate == 0.3
    assert pinned(creator, {"policy": "takedown"}) == {"policy": "takedown"}
    with pytest.raises(ValueError, match="the creator's terms have none to keep"):
        pinned({"policy": "track"}, {"policy": "revshare"})
    for policy in ("track", "takedown"):  # stored unpinned, before the fix: the creator's
        assert effective({"policy": policy}, {"policy": "revshare"}).policy == policy


def _applied(creator: str, policy: str, verdict: str = "match") -> AppliedPolicy:
    rate = 0.2 if policy == "revshare" else None
    return AppliedPolicy.model_validate(
        {
            "creator_id": creator,
            "via": "style",
            "verdict": verdict,
            "policy": policy,
            "revshare_rate": rate,
        }
    )


def test_most_restrictive_match_wins_and_says_why() -> None:
    out = resolve([_applied("a", "track"), _applied("b", "takedown"), _applied("c", "revshare")])
    assert out.resolved == "takedown"
    assert out.reason == (
        "takedown of b (style match) is the most restrictive of: takedown, revshare, track"
    )


def test_possible_matches_are_listed_but_decide_nothing() -> None:
    out = resolve([_applied("a", "takedown", "possible"), _applied("b", "revshare")])
    assert out.resolved == "revshare" and len(out.applies) == 2
    assert resolve([_applied("a", "takedown", "possible")]).resolved == "none"
    assert resolve([]).reason == "nothing matched"


def test_a_work_rate_goes_with_revshare_only() -> None:
    """Found by QA: a rate with another policy was stored and never applied."""
    with pytest.raises(ValidationError, match="only applies to policy 'revshare'"):
        TermsOverride.model_validate({"policy": "takedown", "revshare_rate": 0.2})
    with pytest.raises(ValueError, match="this work's is 'track'"):
        pinned({"policy": "track"}, {"revshare_rate": 0.2})
    own_rate = {"revshare_rate": 0.2}  # a revshare creator's work at its own rate
    assert pinned({"policy": "revshare", "revshare_rate": 0.3}, own_rate) == own_rate
    assert (
        pinned({"policy": "track"}, {"policy": "revshare", "revshare_rate": 0.2})["revshare_rate"]
        == 0.2
    )
