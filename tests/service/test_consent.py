"""Consent terms: defaults, validation, per-work overrides, and the most restrictive policy
among match verdicts deciding, with its reason."""

import pytest
from pydantic import ValidationError

from service.consent import Terms, effective, resolve
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
    ],
)
def test_invalid_terms_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Terms.model_validate(bad)


def test_work_overrides_win_and_keep_the_creator_rate() -> None:
    creator = {"policy": "revshare", "revshare_rate": 0.3, "credit": "Alice"}
    assert effective(creator, {"policy": "takedown"}).revshare_rate is None
    assert effective(creator, {"credit": "Alice, 2024"}).credit == "Alice, 2024"
    assert effective({"policy": "track"}, {"policy": "revshare", "revshare_rate": 0.1}).policy == (
        "revshare"
    )
    assert effective(creator, {"policy": None}).policy == "revshare"


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
