"""Claims from a match: a creator (or an admin on their behalf) files a rev-share or
takedown claim for an image that matches their works; the other party may dispute it within
the dispute window; a reviewer upholds or rejects it; the creator it is for (or an admin) may
withdraw it. Every claim carries an evidence packet, and decided claims are labelled data for
recalibration."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from indexer.blobs import atomic_write
from indexer.claims import Claim, ClaimConflict, ClaimStore, already_pending, pixel_digest
from indexer.errors import CatalogError
from indexer.schema import now
from models.images import LoadedImage
from service.consent import unsafe_character
from service.evidence import Packet, build_packet
from service.runtime import Runtime
from service.schemas import MatchResult
from service.scoping import restrict

Kind = Literal["revshare", "takedown"]
Action = Literal["dispute", "withdraw", "uphold", "reject"]


MAX_REASON = 2000  # characters of a reason given for a move


class InvalidReason(ValueError):
    """A reason that cannot go on the record: empty, too long, or holding control or bidi
    characters (which would display one history as another)."""


def check_reason(reason: str) -> str:
    """The reason for a move, as the record keeps it; InvalidReason says what is wrong."""
    if not reason.strip():
        raise InvalidReason("give a reason for the record (it is empty)")
    if len(reason) > MAX_REASON:
        raise InvalidReason(f"a reason holds at most {MAX_REASON} characters ({len(reason)} given)")
    bad = unsafe_character(reason)
    if bad is not None:
        raise InvalidReason(
            f"the reason holds the character U+{ord(bad):04X}; control, invisible and bidi "
            "control characters cannot go on the record"
        )
    return reason


class EvidenceMissing(CatalogError, LookupError):
    """A claim's evidence packet is not where it was written (DATA_DIR/evidence/)."""


class NotClaimable(ValueError):
    """The image does not match the creator's works closely enough to claim."""


class MoveForbidden(PermissionError):
    """This role may not take this action on a claim."""


@dataclass(frozen=True)
class Move:
    """An action on a claim: from which statuses, to which, by which roles."""

    sources: frozenset[str]
    target: str
    roles: frozenset[str]


MOVES: dict[str, Move] = {
    "dispute": Move(frozenset({"open"}), "disputed", frozenset({"platform", "admin"})),
    "withdraw": Move(frozenset({"open", "disputed"}), "withdrawn", frozenset({"creator", "admin"})),
    "uphold": Move(frozenset({"open", "disputed"}), "upheld", frozenset({"reviewer", "admin"})),
    "reject": Move(frozenset({"open", "disputed"}), "rejected", frozenset({"reviewer", "admin"})),
}


def matched_entries(result: MatchResult, creator_id: str) -> list[dict[str, Any]]:
    """What of `creator_id`'s the image matched: copied works (content) and the creator's
    style, each with its verdict, calibrated rate (and its bound on measured counts alone,
    `upper`) and attribution share."""
    out: list[dict[str, Any]] = [
        {
            "via": "content",
            "creator_id": m.creator_id,
            "work_id": m.work_id,
            "verdict": m.verdict,
            "calibrated": m.calibrated,
            "upper": m.upper,
            "share": 1.0,
        }
        for m in result.content.matches
        if m.creator_id == creator_id and m.verdict != "none"
    ]
    out += [
        {
            "via": "style",
            "creator_id": c.creator_id,
            "work_id": None,
            "verdict": c.verdict,
            "calibrated": c.calibrated,
            "upper": c.upper,
            "share": c.share,
        }
        for c in result.style.creators
        if c.creator_id == creator_id and c.verdict != "none"
    ]
    return out


def file_claim(
    runtime: Runtime,
    query: LoadedImage,
    query_bytes: bytes,
    kind: Kind,
    creator_id: str,
    actor: str,
) -> tuple[Claim, Packet]:
    """Match the image, and file a claim for `creator_id` if it matches their works at
    least `possible`ly; the evidence packet is written under DATA_DIR/evidence/. The same
    image and creator as a claim still open or disputed (of either kind) is a ClaimConflict
    naming it (a retry files nothing twice)."""
    pixels = pixel_digest(query.image)
    earlier = runtime.library.claims.pending(creator_id, query.sha256, pixels)
    if earlier is not None:  # before matching; the store checks again as it files
        raise already_pending(earlier, kind)
    full = runtime.matcher.match([query], runtime.options(creator=creator_id))[0]
    result = restrict(full, creator_id)  # the claim shows only the claimant's matches
    matched = matched_entries(result, creator_id)
    if not matched:
        raise NotClaimable(
            f"this image does not match the works of creator {creator_id!r} (content verdict "
            f"{result.content.verdict}, style verdict {result.style.verdict}); a claim needs "
            "at least a 'possible' match"
        )
    claim_id = f"c_{secrets.token_hex(8)}"
    created = now()
    window = timedelta(days=runtime.settings.dispute_window_days)
    context = {
        "claim_id": claim_id,
        "kind": kind,
        "creator_id": creator_id,
        "claimant": actor,
        "dispute_until": (created + window).isoformat(timespec="seconds") + "Z",
    }
    packet = build_packet(runtime.library, runtime.signer, query, query_bytes, result, context)
    where = evidence_path(runtime.settings.data_dir, claim_id)
    atomic_write(where, packet.data)
    claim = Claim(
        claim_id=claim_id,
        kind=kind,
        status="open",
        creator_id=creator_id,
        claimant=actor,
        query_sha256=query.sha256,
        created_at=created,
        dispute_until=created + window,
        matched=matched,
        result=result.model_dump(mode="json"),
        packet_sha256=packet.sha256,
        events=[],
        query_pixels=pixels,
    )
    try:
        return runtime.library.claims.add(claim), packet
    except ClaimConflict:  # filed meanwhile by a concurrent request: no packet left behind
        where.unlink(missing_ok=True)
        raise


def evidence_path(data_dir: Path, claim_id: str) -> Path:
    return data_dir / "evidence" / f"{claim_id}.zip"


def stored_evidence(data_dir: Path, claim: Claim) -> bytes:
    """The evidence packet filed with the claim; EvidenceMissing if it is not on disk."""
    path = evidence_path(data_dir, claim.claim_id)
    if not path.is_file():
        raise EvidenceMissing(
            f"the evidence packet of {claim.claim_id} is not on disk ({path.name})"
        )
    return path.read_bytes()


def move_claim(
    store: ClaimStore, claim: Claim, action: str, role: str, actor: str, reason: str
) -> Claim:
    """Apply an action if the role may and the claim's status and window allow it."""
    check_reason(reason)
    move = MOVES[action]
    if role not in move.roles:
        raise MoveForbidden(
            f"a {role} key cannot {action} a claim; it needs role {' or '.join(sorted(move.roles))}"
        )
    if claim.status not in move.sources:
        raise ClaimConflict(f"a claim that is {claim.status} cannot be {move.target}")
    open_window = now() <= claim.dispute_until
    if action == "dispute" and not open_window:
        raise ClaimConflict(f"the dispute window closed at {claim.dispute_until.isoformat()}Z")
    if move.target in ("upheld", "rejected") and claim.status == "open" and open_window:
        raise ClaimConflict(
            "the dispute window is still open until "
            f"{claim.dispute_until.isoformat()}Z; decide after it closes or once disputed"
        )
    return store.move(claim.claim_id, claim.status, move.target, actor, reason)


def labelled(claims: list[Claim]) -> list[dict[str, Any]]:
    """Decided claims as labelled pairs for recalibration: one row per matched work or style,
    with the score evidence (`upper` None for claims filed before it was recorded) and the
    reviewer's decision (upheld = a true match)."""
    rows = []
    for c in claims:
        if c.status not in ("upheld", "rejected"):
            continue
        decision = next(e for e in reversed(c.events) if e.to_status == c.status)
        for m in c.matched:
            rows.append(
                {
                    "claim_id": c.claim_id,
                    "query_sha256": c.query_sha256,
                    "via": m["via"],
                    "creator_id": m["creator_id"],
                    "work_id": m["work_id"],
                    "calibrated": m["calibrated"],
                    "upper": m.get("upper"),
                    "models": c.result.get("models", {}),
                    "label": c.status == "upheld",
                    "decided_by": decision.actor,
                    "reason": decision.reason,
                }
            )
    return rows
