"""Pydantic schemas of the public contract (match results, works, errors); separate from the
database rows in indexer/schema.py. Lists are best first; extra keys may be added later."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Verdict = Literal["match", "possible", "none"]


class RateBasis(BaseModel):
    """What one test's rate stands on: the measured value, the null it was read from, and
    how far those counts alone support it."""

    value: float = Field(
        description="what the test measured: cosine (embedding, style), Hamming distance in "
        "bits (pdq), or keypoint evidence (keypoints)"
    )
    calibrated: float = Field(description="this test's estimated false-match rate alone")
    null_pairs: int = Field(description="non-matching pairs the calibration measured it on")
    closer: int = Field(
        description="how many of those pairs were at least as close (exact for the closest "
        "2,000; past them a count from the stored grid, never too few)"
    )
    upper: float = Field(
        description="95% upper confidence bound on this test's rate from those counts alone, "
        "with no tail model: when `closer` is 0 the rate itself is the fitted tail's (or "
        "the floor of one in the pairs measured), and this is what the counts vouch for"
    )
    null_part: int | None = Field(
        None,
        description="embedding only, where the calibration splits its content null: which "
        "part the rate was read from (0: the sparsest neighbourhoods)",
    )
    neighbourhood: float | None = Field(
        None,
        description="embedding only, where the calibration splits its content null: cosine "
        "of the query's k-th closest calibration background image, whole image against "
        "whole image, which places it in `null_part`",
    )


class WorkMatch(BaseModel):
    creator_id: str
    work_id: str
    score: float = Field(description="cosine similarity in the model's space")
    calibrated: float = Field(description="estimated false-match rate of this score")
    upper: float = Field(
        1.0,
        description="95% upper confidence bound on `calibrated` from the calibration's "
        "measured counts alone, with no tail model: over every test run, the most its null's "
        "counts allow for reaching the best test's rate, summed, and never less than "
        "`calibrated`; or the watermark's false-positive rate where that is less",
    )
    verdict: Verdict = Field("none", description="this work's verdict at the thresholds")
    pdq_distance: int | None = Field(
        None, description="PDQ Hamming distance where within the match distance, 31 (content)"
    )
    inliers: int | None = Field(
        None,
        description="keypoint matches agreeing on one placement of the work in the query, "
        "where geometric verification checked this work (content)",
    )
    coverage: float | None = Field(
        None,
        description="share of the work's regions where both images have keypoints that hold "
        "one of those matches (content)",
    )
    mirrored: bool | None = Field(
        None,
        description="the placement lies in the query's mirror image: the copy is mirrored "
        "(content, where verification checked this work)",
    )
    placement: list[tuple[float, float]] | None = Field(
        None,
        description="where verification placed the work in the query: the corners of the "
        "box around the work's keypoints, in the query's pixels (x, y), from the work's top "
        "left, clockwise (counter-clockwise when mirrored); outside the query where the copy "
        "is cropped (content, where the keypoints alone reach the possible rate)",
    )
    watermark: bool | None = Field(
        None,
        description="the query carries this work's styletrace watermark: a content match "
        "whatever the similarity (content)",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="what registration found about this work: an ownership conflict (its "
        "bytes, or a near copy, registered earlier by another creator), or file metadata "
        "naming someone else as its creator; a claim on it may be disputed on those grounds",
    )
    tests: dict[str, RateBasis] = Field(
        default_factory=dict,
        description="the tests that measured this work, behind `calibrated` (embedding, "
        "pdq and keypoints for content; style): it is the least of their rates times the "
        "number of tests run (3 with verification; one that did not measure counts at 1), or "
        "the watermark's false-positive rate where that is less",
    )


class CreatorMatch(BaseModel):
    creator_id: str
    score: float = Field(
        description="mean similarity to the creator's closest works (`works` of them); a work "
        "outside the query's style neighbours counts at the last neighbour's similarity"
    )
    calibrated: float
    upper: float = Field(1.0, description="as for a work: `calibrated` on measured counts alone")
    verdict: Verdict = Field("none", description="this creator's verdict at the thresholds")
    share: float = Field(
        description="attribution share among the creators that clear the 'possible' threshold"
    )
    works: int = Field(description="number of the creator's works averaged into the score")
    tests: dict[str, RateBasis] = Field(
        default_factory=dict, description="the style test behind `calibrated`"
    )


class StyleResult(BaseModel):
    verdict: Verdict
    score: float
    calibrated: float
    upper: float = Field(1.0, description="the first creator's `upper`")
    creators: list[CreatorMatch]
    matches: list[WorkMatch]
    generic_creators: int = Field(
        description="registered creators that clear the 'possible' "
        "threshold: how generic the style is"
    )


class ContentResult(BaseModel):
    verdict: Verdict
    score: float
    calibrated: float
    upper: float = Field(1.0, description="the first match's `upper`")
    matches: list[WorkMatch]


class QueryInfo(BaseModel):
    sha256: str
    width: int
    height: int


class ModelsInfo(BaseModel):
    style: str
    content: str
    hash: str
    index: str
    calibration: str
    verification: str | None = Field(
        None, description="local-feature model of geometric verification, where it ran"
    )


class Thresholds(BaseModel):
    match: float = Field(description="false-match rate at or below which the verdict is match")
    possible: float


class AppliedPolicy(BaseModel):
    """The consent terms in force for one matched work (content) or creator (style)."""

    creator_id: str
    work_id: str | None = Field(None, description="the copied work (content matches)")
    via: Literal["content", "style"]
    verdict: Verdict
    policy: Literal["track", "revshare", "takedown"]
    revshare_rate: float | None = None
    licence: str = ""
    licence_url: str = ""
    credit: str = ""


class PolicyResolution(BaseModel):
    resolved: Literal["none", "track", "revshare", "takedown"] = Field(
        description="the most restrictive policy among match verdicts"
    )
    reason: str
    applies: list[AppliedPolicy]


class MatchResult(BaseModel):
    query: QueryInfo
    style: StyleResult
    content: ContentResult
    models: ModelsInfo
    thresholds: Thresholds
    policy: PolicyResolution | None = Field(
        None, description="consent policies of the matched creators, and which one applies"
    )
    provenance: dict[str, Any] | None = Field(
        None,
        description="what the query file says about itself: watermarks, metadata (creator, "
        "rights, software), C2PA manifest, and whether it declares AI generation",
    )


class WorkOut(BaseModel):
    work_id: str
    creator_id: str
    sha256: str
    size_bytes: int
    width: int
    height: int
    registered_at: datetime
    created: bool | None = None
    warnings: list[str] = Field(
        default_factory=list,
        description="e.g. an ownership conflict, or metadata naming another creator",
    )
    provenance: dict[str, Any] | None = Field(
        None, description="what the file said about itself at registration"
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="the registration manifest's other columns for this work, as given",
    )


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody
