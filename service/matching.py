"""Matching: one batch of query images in, one MatchResult per image out. Content and style
are answered separately; every score carries its calibrated false-match rate, per query:
the chance that an unrelated image scores this close to ANY registered work (content) or
creator (style) of a catalog this size, from the pair rates of the calibration's nulls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from indexer.catalog import Work
from indexer.errors import WorkNotFound
from indexer.library import WORK_CROPS, WORK_PAIRED, Library
from indexer.spaces import Hit
from models import local
from models.images import LoadedImage
from models.pdq import MATCH_DISTANCE, informative, pdq_dihedral
from models.stages import stage
from models.views import VIEWS, embed_once
from service.calibration import Calibration, combine_rates, counted_bound
from service.consent import attach_policies
from service.rate_basis import basis, per_query_rate
from service.schemas import (
    ContentResult,
    MatchResult,
    ModelsInfo,
    QueryInfo,
    Thresholds,
    WorkMatch,
)
from service.style_scoring import style_result
from service.verdicts import verdict
from service.watermarks import WatermarkReader, provenance_of, watermarked_works

PDQ_CANDIDATES = 32
DIHEDRAL = 8  # PDQ hashes per query: every flip and quarter turn
# candidates per search for a match scoped to one creator, so that other creators' works
# (near-copies among them) cannot crowd that creator's own out of its answer
SCOPED_CANDIDATES = 256


@dataclass(frozen=True)
class MatchOptions:
    """Knobs of one matching call (from settings, per request top_k)."""

    top_k: int = 5
    style_neighbours: int = 64
    works_per_creator: int = 3
    match_rate: float = 0.001
    possible_rate: float = 0.01
    # PDQ distances counted as evidence: its published match distance; farther, a small
    # distance says more about simple shapes than about copying (benchmarks/RESULTS.md,
    # sections pdq_plainness and pdq_reach, which measures wider reaches with this knob)
    pdq_reach: int = MATCH_DISTANCE
    # rank only this creator's works (its key's match, its claim), searching wider; the
    # rates stay as measured against the whole catalog
    creator: str | None = None

    def candidates(self, k: int) -> int:
        """Neighbours to search for: `k`, or more when scoped to one creator."""
        return max(k, SCOPED_CANDIDATES) if self.creator is not None else k


def whole_images(vecs: NDArray[np.float32], counts: Sequence[int]) -> NDArray[np.float32]:
    """Each query's whole-image vector: the first of its `counts` embedded views."""
    return vecs[np.cumsum([0, *counts])[:-1].astype(np.int64)]


def _dihedral_codes(image: Image.Image) -> NDArray[np.uint8]:
    """[8, 32] packed PDQ hashes of the image under every flip and quarter turn."""
    return np.stack([np.frombuffer(h.bits, np.uint8) for h in pdq_dihedral(image)])


class Matcher:
    """Scores queries against a library with a calibration for its models."""

    def __init__(
        self,
        library: Library,
        calibration: Calibration,
        watermarks: WatermarkReader | None = None,
    ) -> None:
        self.library = library
        self.watermarks = watermarks
        self.calibration = calibration
        self.views = calibration.models.get("content_views", "global")  # as its null was measured
        scheme = VIEWS[self.views]
        if (scheme.indexes_work_views and WORK_CROPS not in library.spaces) or (
            scheme.paired is not None and WORK_PAIRED not in library.spaces
        ):
            raise ValueError(f"calibration views {self.views!r} need a library indexing them")
        # geometric verification only where the calibration measured the same local model
        self.verifies = (
            calibration.local is not None and calibration.models.get("local") == local.MODEL_ID
        )

    def match(self, queries: Sequence[LoadedImage], opts: MatchOptions) -> list[MatchResult]:
        """Match a batch: one forward pass per model and one search per space for the whole
        batch, then per query verification and scoring."""
        if not queries:  # a scan batch in which no file decoded
            return []
        images = [q.image for q in queries]
        with stage("views"):
            views = [VIEWS[self.views].embedded(img) for img in images]
        flat = [v for vs in views for v in vs]
        content_vecs = embed_once(self.library.embedders["content"].embed, flat)
        style_vecs = self.library.embedders["style"].embed(images)
        with stage("pdq"):
            codes = [_dihedral_codes(img) for img in images]
        self.library.refresh()
        counts = [len(vs) for vs in views]
        neighbourhoods = self.calibration.content.neighbourhoods(whole_images(content_vecs, counts))
        content_hits = self._content_hits(content_vecs, counts, opts)
        pdq_hits = self._pdq_hits(codes, opts)
        with stage("search"):
            style_hits = self.library.search(
                "style", style_vecs, opts.candidates(opts.style_neighbours)
            )
        models = self._models()
        out = []
        for i, q in enumerate(queries):
            with stage("watermarks"):
                marks = self.watermarks.read(q.image) if self.watermarks else []
            content = self._content(
                content_hits[i],
                pdq_hits[i],
                q.image,
                opts,
                float(neighbourhoods[i]),
                watermarked_works(marks),
            )
            with stage("scoring"):
                style = style_result(style_hits[i], opts, self.calibration, self.library)
            out.append(
                MatchResult(
                    query=QueryInfo(sha256=q.sha256, width=q.width, height=q.height),
                    style=style,
                    content=content,
                    models=models,
                    thresholds=Thresholds(match=opts.match_rate, possible=opts.possible_rate),
                    provenance=provenance_of(q, marks),
                )
            )
        with stage("policies"):
            return self._with_policies(out)

    def _with_policies(self, results: list[MatchResult]) -> list[MatchResult]:
        """Attach the consent policy of every creator and work with a match or possible
        verdict (those are the ones policies apply to): one catalog read, none when nothing
        matched."""
        works = {m.work_id for r in results for m in r.content.matches if m.verdict != "none"}
        creators = {
            m.creator_id
            for r in results
            for m in r.content.matches + r.style.creators
            if m.verdict != "none"
        }
        creator_terms, work_terms = (
            self.library.catalog.terms_for(creators, works) if creators else ({}, {})
        )
        return [attach_policies(r, creator_terms, work_terms) for r in results]

    def _models(self) -> ModelsInfo:
        ids = self.library.model_ids
        return ModelsInfo(
            style=ids["style"],
            content=ids["content"],
            hash=ids["pdq"],
            index=self.library.snapshot_id,
            calibration=str(self.calibration.info.get("id", "")),
            verification=local.MODEL_ID if self.verifies else None,
        )

    def _content_hits(
        self, vecs: NDArray[np.float32], counts: list[int], opts: MatchOptions
    ) -> list[tuple[dict[int, float], dict[int, Work]]]:
        """Per query: each work's content score (its best pair of views: every query view
        against whole works, the whole query against works' crops, the query's paired view
        against works' same view) and the works. `counts`: each query's embedded images,
        its paired view last when the scheme has one."""
        k = opts.candidates(max(opts.top_k, 10))
        scheme = VIEWS[self.views]
        starts = np.cumsum([0, *counts])[:-1]
        ends = starts + np.asarray(counts, np.int64)
        is_paired = np.zeros(len(vecs), bool)
        if scheme.paired is not None:
            is_paired[ends - 1] = True
        none: list[list[Hit]] = [[] for _ in counts]
        with stage("search"):
            found = iter(self.library.search("content", vecs[~is_paired], k))
            searches = [[] if p else next(found) for p in is_paired]
            crops = (
                self.library.search(WORK_CROPS, vecs[starts], k * self.library.views_per_work)
                if scheme.indexes_work_views
                else none
            )
            paired = (
                self.library.search(WORK_PAIRED, vecs[is_paired], k) if is_paired.any() else none
            )
        out = []
        for q, (start, end) in enumerate(zip(starts, ends, strict=True)):
            sims: dict[int, float] = {}
            works: dict[int, Work] = {}
            for view_hits in [*searches[start:end], crops[q], paired[q]]:
                for h in view_hits:
                    works[h.work.pk] = h.work
                    sims[h.work.pk] = max(h.score, sims.get(h.work.pk, -1.0))
            out.append((sims, works))
        return out

    def _content(
        self,
        hits: tuple[dict[int, float], dict[int, Work]],
        pdq: dict[int, tuple[int, Work]],
        image: Image.Image,
        opts: MatchOptions,
        neighbourhood: float,
        marked: Mapping[str, float] | None = None,
    ) -> ContentResult:
        """Content matches of one query from its content scores (rated by the content null
        of its `neighbourhood`), PDQ distances, the geometric verification of its closest
        works and the watermarks it carries."""
        sims, works = hits
        marked = marked or {}
        works = works | {pk: w for pk, (_, w) in pdq.items()} | self._marked_works(set(marked))
        if opts.creator is not None:  # nor do others' works take its verification's places
            works = {pk: w for pk, w in works.items() if w.creator_id == opts.creator}
            sims = {pk: s for pk, s in sims.items() if pk in works}
        verified = self._verify(image, sims, works) if self.verifies else {}
        cal, n = self.calibration, len(self.library)
        local_null = cal.local if self.verifies else None
        part = cal.content.part(neighbourhood)
        content_null = cal.content.nulls[part]
        ran = [(content_null, n), (cal.pdq, n)]  # every test, and its comparisons per query
        if local_null is not None:
            ran.append((local_null, local.CANDIDATES))
        with stage("scoring"):
            ranked = []  # every work's rate first (cheap), then what the shown ones stand on
            for pk, work in works.items():
                found = verified.get(pk)  # (placement, strength) where verification ran
                measured = {}  # test -> (null, value, comparisons per query)
                if pk in sims:
                    measured["embedding"] = (content_null, sims[pk], n)
                if pk in pdq:
                    measured["pdq"] = (cal.pdq, float(pdq[pk][0]), n)
                if local_null is not None and found:
                    measured["keypoints"] = (local_null, found[1], local.CANDIDATES)
                # "any of them fired"; a test that did not measure this work counts at rate 1
                rates = [per_query_rate(*test) for test in measured.values()]
                best = min(rates, default=1.0)
                rate = combine_rates([best] + [1.0] * (len(ran) - 1))
                shown = min(rate, marked[work.work_id]) if work.work_id in marked else rate
                ranked.append((shown, -round(sims.get(pk, 0.0), 6), pk, rate, best, measured))
            ranked.sort(key=lambda r: r[:3])  # a tie: the earliest registered first (by pk)
            rows = []
            for _, _, pk, rate, best, measured in ranked[: opts.top_k]:
                work, found = works[pk], verified.get(pk)
                tests = {name: basis(*test) for name, test in measured.items()}
                if "embedding" in tests and cal.content.edges:  # which null, and why
                    tests["embedding"] = tests["embedding"].model_copy(
                        update={"null_part": part, "neighbourhood": round(neighbourhood, 6)}
                    )
                # a placement is shown where the keypoints alone are evidence, not chance
                evident = (
                    "keypoints" in tests and tests["keypoints"].calibrated <= opts.possible_rate
                )
                placed = local.outline_in(found[0], image.size) if found and evident else []
                row = WorkMatch(
                    creator_id=work.creator_id,
                    work_id=work.work_id,
                    score=round(sims.get(pk, 0.0), 6),
                    calibrated=rate,
                    # a test with tied scores (distances, inliers) may not reach `best`
                    # exactly: its bound can then fall under min * count
                    upper=max(rate, counted_bound(ran, best)),
                    verdict=verdict(rate, opts.match_rate, opts.possible_rate),
                    pdq_distance=pdq[pk][0] if pk in pdq else None,
                    inliers=found[0].inliers if found else None,
                    coverage=round(found[0].coverage, 4) if found else None,
                    mirrored=found[0].mirrored if found else None,
                    placement=placed or None,
                    warnings=work.warnings,
                    tests=tests,
                )
                if work.work_id in marked:
                    row = self._watermarked(row, marked[work.work_id])
                rows.append(row)
            return self._content_result(rows, opts)

    def _marked_works(self, work_ids: AbstractSet[str]) -> dict[int, Work]:
        """The active works named by the query's watermarks (they match even when no
        similarity test found them)."""
        out = {}
        for work_id in work_ids:
            try:
                work = self.library.catalog.get(work_id)
            except WorkNotFound:  # removed since the watermark was read
                continue
            out[work.pk] = work
        return out

    @staticmethod
    def _watermarked(row: WorkMatch, false_positive_rate: float) -> WorkMatch:
        """A work whose watermark the query carries: strong content evidence, a match at
        the rate an unwatermarked image would decode to a valid payload."""
        update = {
            "watermark": True,
            "calibrated": min(row.calibrated, false_positive_rate),
            "upper": min(row.upper, false_positive_rate),
            "verdict": "match",
        }
        return row.model_copy(update=update)

    def _verify(
        self, image: Image.Image, sims: dict[int, float], works: dict[int, Work]
    ) -> dict[int, tuple[local.Verification, float]]:
        """(placement, strength) of the query against each of its local.CANDIDATES
        closest works by content."""
        closest = sorted(sims, key=lambda pk: -sims[pk])[: local.CANDIDATES]
        if not closest:
            return {}
        with stage("keypoints"):
            query = local.extract_query(image)
        with stage("keypoint_load"):
            stored = self.library.keypoints([works[pk] for pk in closest])
        with stage("verify"):
            return {pk: local.verify_query(query, feats) for pk, feats in stored.items()}

    def _content_result(self, rows: list[WorkMatch], opts: MatchOptions) -> ContentResult:
        if not rows:
            return ContentResult(verdict="none", score=0.0, calibrated=1.0, matches=[])
        best = rows[0]
        return ContentResult(
            verdict=verdict(best.calibrated, opts.match_rate, opts.possible_rate),
            score=best.score,
            calibrated=best.calibrated,
            upper=best.upper,
            matches=rows,
        )

    def _pdq_hits(
        self, codes: list[NDArray[np.uint8]], opts: MatchOptions
    ) -> list[dict[int, tuple[int, Work]]]:
        """Per query: the smallest PDQ distance per work over its eight dihedral variants,
        for works within the options' `pdq_reach` bits (none for a hash that says nothing)."""
        reach = opts.pdq_reach
        with stage("search"):
            hits = self.library.search(
                "pdq", np.concatenate(codes), opts.candidates(PDQ_CANDIDATES)
            )
        out = []
        for q in range(len(codes)):
            best: dict[int, tuple[int, Work]] = {}
            if not informative(codes[q][0]):  # a hash that matches every unreadable image
                out.append(best)
                continue
            for variant in hits[q * DIHEDRAL : (q + 1) * DIHEDRAL]:
                for h in variant:
                    if h.score > reach:
                        continue
                    if h.work.pk not in best or h.score < best[h.work.pk][0]:
                        best[h.work.pk] = (int(h.score), h.work)
            out.append(best)
        return out
