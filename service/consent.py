"""Consent terms and policies. A creator sets terms (AI training opt-in, the policy for
matching outputs, licence, credit); a work may override any of them. A match result lists
the policy of every matched creator, and resolves them: the most restrictive policy among
the `match` verdicts wins (takedown > revshare > track)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)

from service.schemas import AppliedPolicy, MatchResult, PolicyResolution, Verdict

Policy = Literal["track", "revshare", "takedown"]
SEVERITY: dict[str, int] = {"none": 0, "track": 1, "revshare": 2, "takedown": 3}
TEXT_FIELDS = ("licence", "licence_url", "credit")
# a licence text may run over several lines (U+2028/U+2029: Unicode's line and paragraph breaks)
_LINE_BREAKS = frozenset("\n\r\t\u2028\u2029")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# marks that print as nothing: zero-width space, word joiner, BOM, soft hyphen, invisible
# operators, the bidi marks LRM, RLM and ALM, the combining grapheme joiner, the deprecated
# format controls U+206A-U+206F and interlinear annotation marks; ZWJ and ZWNJ stay (scripts
# and emoji need them), as do tag characters within an emoji flag (England's, say)
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u180e\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064"
    "\u206a\u206b\u206c\u206d\u206e\u206f\ufeff\ufff9\ufffa\ufffb"
)
_TAGS = range(0xE0000, 0xE0080)
_FLAG = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")  # a subdivision flag
# letters and marks that print blank: Hangul fillers, the braille blank
_BLANKS = frozenset("\u115f\u1160\u2800\u3164\uffa0")  # (joiners are format, Cf)


def _unsafe(ch: str, lines: bool) -> bool:
    """Characters text kept for people may not hold: control characters (NUL, escapes) and
    the noncharacters U+FFFE and U+FFFF, which XMP and EXIF cannot carry; bidi controls and
    invisible marks, which let one credit or label display as another."""
    if ch in _LINE_BREAKS:
        return not lines
    return (
        unicodedata.category(ch) == "Cc"
        or ch in _BIDI_CONTROLS
        or ch in _INVISIBLE
        or ord(ch) in _TAGS
        or ch in "\ufffe\uffff"
    )


def shows_nothing(value: str) -> bool:
    """Whether non-empty text prints as nothing at all: spaces, blank letters (Hangul
    fillers, the braille blank), joiners and marks with nothing to mark."""
    return bool(value) and all(
        ch.isspace() or ch in _BLANKS or unicodedata.category(ch) in ("Mn", "Me", "Cf")
        for ch in value
    )


def _checked(lines: bool) -> AfterValidator:
    def check(value: str) -> str:
        bad = unsafe_character(value, lines)
        if bad is not None:
            raise ValueError(
                f"holds the character U+{ord(bad):04X}; control, invisible and bidi "
                "control characters cannot go into credit lines and image metadata"
                + ("" if lines else " (nor line breaks here)")
            )
        if shows_nothing(value):
            raise ValueError("prints as nothing; give text people can read, or leave it empty")
        return value

    return AfterValidator(check)


def problems(exc: ValidationError) -> str:
    """A validation error as sentences a person reads: "field: what is wrong; ..."."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


def unsafe_character(value: str, lines: bool = True) -> str | None:
    """The first character of `value` that text kept for people may not hold, or None."""
    return next((ch for ch in _FLAG.sub("", value) if _unsafe(ch, lines)), None)


Licence = Annotated[str, Field(max_length=2000), _checked(lines=True)]
LicenceUrl = Annotated[str, Field(max_length=2000), _checked(lines=False)]
Credit = Annotated[str, Field(max_length=500), _checked(lines=False)]


def scrubbed(terms: dict[str, Any]) -> dict[str, Any]:
    """Terms as stored, with any character the checks now refuse dropped from their text (a
    line break in a one-line field becomes a space), so that terms saved before a check
    still read (and match) rather than fail."""

    def clean(text: str, lines: bool) -> str:
        spaced = text if lines else "".join(" " if ch in _LINE_BREAKS else ch for ch in text)
        flags = _FLAG.findall(spaced)  # kept whole, between the cleaned pieces
        pieces = [
            "".join(ch for ch in part if not _unsafe(ch, lines)) for part in _FLAG.split(spaced)
        ]
        return "".join(p + f for p, f in zip(pieces, [*flags, ""], strict=True))

    return {
        k: clean(v, k == "licence") if k in TEXT_FIELDS and isinstance(v, str) else v
        for k, v in terms.items()
    }


class Terms(BaseModel):
    """A creator's consent terms; defaults: no AI training, matches are tracked only."""

    model_config = ConfigDict(extra="forbid")

    training_allowed: StrictBool = Field(
        False, description="may the works train AI models (opt-in: true or false, nothing else)"
    )
    policy: Policy = Field("track", description="what a matching output triggers")
    revshare_rate: float | None = Field(
        None,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="share of revenue claimed; required for revshare",
    )
    licence: Licence = Field("", description="licence text or name")
    licence_url: LicenceUrl = ""
    credit: Credit = Field("", description="credit line to show with the work")

    @model_validator(mode="after")
    def _rate_goes_with_revshare(self) -> Terms:
        if self.policy == "revshare" and self.revshare_rate is None:
            raise ValueError("policy 'revshare' needs a revshare_rate between 0 and 1")
        if self.policy != "revshare" and self.revshare_rate is not None:
            raise ValueError("revshare_rate only applies to policy 'revshare'")
        return self


class TermsOverride(BaseModel):
    """A work's overrides of its creator's terms: only the fields given apply."""

    model_config = ConfigDict(extra="forbid")

    training_allowed: StrictBool | None = None
    policy: Policy | None = None
    revshare_rate: float | None = Field(None, gt=0, le=1, allow_inf_nan=False)
    licence: Licence | None = None
    licence_url: LicenceUrl | None = None
    credit: Credit | None = None

    @model_validator(mode="after")
    def _rate_goes_with_revshare(self) -> TermsOverride:
        if self.policy not in (None, "revshare") and self.revshare_rate is not None:
            raise ValueError("revshare_rate only applies to policy 'revshare'")
        return self


def effective(creator: dict[str, Any], work: dict[str, Any] | None = None) -> Terms:
    """The terms in force for a work: its creator's, with the work's overrides on top. A
    revshare override without a rate (stored before `pinned` gave each one its own) keeps
    its creator's rate while the creator has one, and else gives way to the creator's policy:
    a creator's change never leaves a work with terms that cannot be read."""
    merged = Terms.model_validate(scrubbed(creator)).model_dump() | {
        k: v for k, v in scrubbed(work or {}).items() if v is not None
    }
    if merged["policy"] == "revshare" and merged["revshare_rate"] is None:
        merged["policy"] = Terms.model_validate(scrubbed(creator)).policy
    if merged["policy"] != "revshare":
        merged["revshare_rate"] = None
    return Terms.model_validate(merged)


def pinned(creator: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A work's overrides as stored: one switching to revshare without a rate of its own
    takes its creator's rate now, so a later change to the creator's terms leaves the work's
    as they were; ValueError when the creator has no rate to take, or when a rate is given
    for a work whose terms are not revshare (it would be kept and never apply)."""
    theirs = effective(creator)
    policy = overrides.get("policy") or theirs.policy
    if overrides.get("revshare_rate") is not None and policy != "revshare":
        raise ValueError(
            f"revshare_rate only applies to policy 'revshare' (this work's is {policy!r}); "
            "give the work policy 'revshare' with it"
        )
    if overrides.get("policy") != "revshare" or overrides.get("revshare_rate") is not None:
        return overrides
    rate = theirs.revshare_rate
    if rate is None:
        raise ValueError(
            "policy 'revshare' needs a revshare_rate between 0 and 1 (the creator's terms "
            "have none to keep)"
        )
    return overrides | {"revshare_rate": rate}


def attach_policies(
    result: MatchResult,
    creator_terms: dict[str, dict[str, Any]],
    work_terms: dict[str, dict[str, Any]],
) -> MatchResult:
    """Fill `result.policy`: the terms in force for each content match (the work's) and each
    style creator (the creator's) with a `match` or `possible` verdict, and the resolution
    over the `match` ones."""
    applied: list[AppliedPolicy] = []
    for m in result.content.matches:
        if m.verdict != "none":
            terms = effective(creator_terms.get(m.creator_id, {}), work_terms.get(m.work_id))
            applied.append(_applied(m.creator_id, m.work_id, "content", m.verdict, terms))
    for c in result.style.creators:
        if c.verdict != "none":
            terms = effective(creator_terms.get(c.creator_id, {}))
            applied.append(_applied(c.creator_id, None, "style", c.verdict, terms))
    result.policy = resolve(applied)
    return result


def _applied(
    creator_id: str,
    work_id: str | None,
    via: Literal["content", "style"],
    verdict: Verdict,
    terms: Terms,
) -> AppliedPolicy:
    return AppliedPolicy(
        creator_id=creator_id,
        work_id=work_id,
        via=via,
        verdict=verdict,
        policy=terms.policy,
        revshare_rate=terms.revshare_rate,
        licence=terms.licence,
        licence_url=terms.licence_url,
        credit=terms.credit,
    )


def resolve(applied: list[AppliedPolicy]) -> PolicyResolution:
    """The most restrictive policy among `match` verdicts; `possible` ones are listed for a
    person to review but decide nothing."""
    decisive = [a for a in applied if a.verdict == "match"]
    if not decisive:
        reason = (
            "no match verdict; possible matches are listed for review"
            if applied
            else "nothing matched"
        )
        return PolicyResolution(resolved="none", reason=reason, applies=applied)
    top = max(decisive, key=lambda a: SEVERITY[a.policy])
    others = sorted({a.policy for a in decisive} - {top.policy}, key=lambda p: -SEVERITY[p])
    reason = f"{top.policy} of {top.creator_id} ({top.via} match)"
    if others:
        reason += f" is the most restrictive of: {', '.join([top.policy, *others])}"
    return PolicyResolution(resolved=top.policy, reason=reason, applies=applied)
