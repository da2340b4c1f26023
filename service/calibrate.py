"""Fitting a calibration from background data: images grouped by creator, every image a
different work. Non-matching pairs give the nulls: content between works of different
creators (split by the query's neighbourhood, also one creator's distinct works that are
not recolours of one another), PDQ between works of different creators, keypoint
verification between distinct works, style between an image and every OTHER creator's
closest works. Used by `styletrace calibrate` and benchmarks/calibrate.py."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from indexer.spaces import crops_space, paired_space
from models import local
from models.embedder import Embedder
from models.pdq import MODEL_ID as PDQ_ID
from models.pdq import dihedral_distances, hash_batch, near_duplicate_of
from models.structure import recolour_pairs
from models.views import VIEWS, embed_each
from service.calibration import Calibration, ContentNulls, NullDistribution, kth_closest

MAX_WORKS_AVERAGED = 5
# Content nulls split at quantiles of each image's k-th closest background cosine: one part
# by default, since two (k = 50) lifted photos' crops to `possible` but cost the copy set's
# recall at 1% (0.914 to 0.887) and let more same-style drawings through (benchmarks/HISTORY.md)
NEIGHBOURHOOD_K = 50
CONTENT_PARTS = 1


def embed_all(
    embedder: Embedder, images: Sequence[Image.Image], batch: int = 32
) -> NDArray[np.float32]:
    """Embed in batches."""
    parts = [embedder.embed(images[i : i + batch]) for i in range(0, len(images), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)


def view_scores(
    query_views: NDArray[np.float32],
    works: NDArray[np.float32],
    work_views: NDArray[np.float32] | None = None,
    paired: tuple[NDArray[np.float32], NDArray[np.float32]] | None = None,
) -> NDArray[np.float32]:
    """[n, m] content score of each query against each work, as matching scores it: the best
    of the query's views `query_views` [n, v, d] (the first the whole image) against the
    whole work `works` [m, d], of the whole query against the work's extra views
    `work_views` [m, w, d], and of the query's paired view against the work's
    (`paired`: [n, d] and [m, d])."""
    best = np.einsum("nvd,md->nmv", query_views, works).max(2)
    if work_views is not None and work_views.shape[1]:
        best = np.maximum(best, np.einsum("nd,mwd->nmw", query_views[:, 0], work_views).max(2))
    if paired is not None:
        best = np.maximum(best, paired[0] @ paired[1].T)
    scores: NDArray[np.float32] = best.astype(np.float32)
    return scores


def content_scores(
    vectors: NDArray[np.float32],
    views: NDArray[np.float32] | None = None,
    work_views: NDArray[np.float32] | None = None,
    paired: NDArray[np.float32] | None = None,
) -> NDArray[np.float32]:
    """[n, n] view_scores of image i as a query (its views `views` [n, v, d], or the whole
    image alone) against image j as a work (its vector, extra views and paired view)."""
    query_views = vectors[:, None] if views is None else views
    return view_scores(
        query_views, vectors, work_views, None if paired is None else (paired, paired)
    )


def null_pairs(
    creators: Sequence[str],
    recolours: NDArray[np.bool_] | None = None,
    symmetric: bool = False,
    parts: NDArray[np.integer] | None = None,
) -> NDArray[np.bool_]:
    """[n, n]: the (query, work) pairs a content null counts. Works by different creators;
    with `recolours` ([n, n], models/structure.py) one creator's distinct works too, less
    those recolours (copies, not nulls), else none of a creator's pairs: portfolios hold
    recolours and variants of one drawing. When the scores are `symmetric` (plain cosines)
    an unordered pair counts once within a part (`parts`: each image's; default one)."""
    labels = np.asarray(creators)
    n = len(labels)
    pairs: NDArray[np.bool_] = labels[:, None] != labels[None, :]
    if recolours is not None:
        pairs |= ~(recolours | np.eye(n, dtype=bool))
    if symmetric:
        part = np.zeros(n, np.int64) if parts is None else np.asarray(parts)
        pairs &= np.triu(np.ones((n, n), bool), 1) | (part[:, None] != part[None, :])
    return pairs


def content_null(
    scores: NDArray[np.float32],
    creators: Sequence[str],
    symmetric: bool = False,
    recolours: NDArray[np.bool_] | None = None,
) -> NDArray[np.float32]:
    """Content scores of the pairs `null_pairs` counts, in one null."""
    pairs: NDArray[np.float32] = scores[null_pairs(creators, recolours, symmetric)]
    return pairs.astype(np.float32)


def content_nulls(
    scores: NDArray[np.float32],
    whole: NDArray[np.float32],
    creators: Sequence[str],
    recolours: NDArray[np.bool_] | None = None,
    k: int = NEIGHBOURHOOD_K,
    parts: int = CONTENT_PARTS,
) -> ContentNulls:
    """The content nulls of `parts` equal shares of the background, split by each image's
    k-th closest OTHER background image (whole-image vectors `whole` [n, d], kept in float16
    as matching reads them): part p's null is its images' scores as queries. One part: the
    one null of the pairs `null_pairs` counts, and no background kept."""
    symmetric = bool(np.array_equal(scores, scores.T))  # cosines, and crops on both sides
    if parts == 1:
        return ContentNulls(
            (NullDistribution.fit(content_null(scores, creators, symmetric, recolours)),)
        )
    if len(creators) <= k * parts:
        raise ValueError(f"{parts} parts of {len(creators)} images leave k={k} neighbours too few")
    background = whole.astype(np.float16)
    as_read = background.astype(np.float32)  # what matching compares queries against
    near = as_read @ as_read.T
    np.fill_diagonal(near, -np.inf)
    kth = kth_closest(near, k)
    edges = np.quantile(kth, np.linspace(0, 1, parts + 1)[1:-1])
    part = np.searchsorted(edges, kth)
    if np.any(np.bincount(part, minlength=parts) == 0):
        raise ValueError(f"tied neighbourhoods leave one of {parts} content nulls empty")
    pairs = null_pairs(creators, recolours, symmetric, part)
    nulls = tuple(NullDistribution.fit(scores[part == p][pairs[part == p]]) for p in range(parts))
    return ContentNulls(nulls, k, tuple(float(e) for e in edges), background)


def local_null(
    images: Sequence[Image.Image],
    scores: NDArray[np.float32],
    candidates: int = local.CANDIDATES,
) -> NDArray[np.float32]:
    """Verification strength (local.strength) between each image and its `candidates`
    closest OTHER works by content score, whoever made them: the pairs matching verifies.
    Same-creator pairs stay in, unlike the content null: keypoints match the frames,
    templates and shared parts of a series (a warning-sign triangle, a letter E against F),
    which live inside portfolios; a null without them claimed 0.1% where same-style works
    verified 2.8% of the time (benchmarks/HISTORY.md). Each image is verified as a query is,
    as it is and mirrored."""
    queries = [local.extract_query(img) for img in images]
    pairs = verified_pairs(scores, candidates)
    return np.asarray(
        [local.verify_query(queries[i], queries[j].as_is)[1] for i, j in pairs], np.float32
    )


def verified_pairs(scores: NDArray[np.float32], candidates: int) -> list[tuple[int, int]]:
    """(query, work) index pairs: each image and its `candidates` closest others by content."""
    out = []
    for i in range(len(scores)):
        row = scores[i].astype(np.float64)
        row[i] = -np.inf
        out += [(i, int(j)) for j in np.argsort(-row)[:candidates] if np.isfinite(row[j])]
    return out


def embed_views(
    embedder: Embedder, images: Sequence[Image.Image], views: str
) -> NDArray[np.float32]:
    """[n, v, d]: every image's query views (models/views.py), embedded."""
    made = [VIEWS[views].query(img) for img in images]
    return embed_each(lambda imgs: embed_all(embedder, imgs), made, embedder.dim)


def embed_work_views(
    embedder: Embedder, images: Sequence[Image.Image], views: str
) -> NDArray[np.float32]:
    """[n, w, d]: every image's extra views as a registered work (w may be 0)."""
    made = [VIEWS[views].work(img) for img in images]
    return embed_each(lambda imgs: embed_all(embedder, imgs), made, embedder.dim)


def background_scores(
    content: Embedder, images: Sequence[Image.Image], content_views: str
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """[n, n]: each image as a query against each as a registered work, scored as matching
    scores content (the views of `content_views`, crops and paired views included); and
    [n, d]: each image's whole-image vector."""
    query_views, paired_vecs = embed_scheme(content, images, content_views)
    content_vecs = query_views[:, 0]
    views = query_views if content_views != "global" else None
    work_views = None
    if views is not None:
        work_views = (
            views[:, 1:]
            if VIEWS[content_views].work_is_query_crops
            else embed_work_views(content, images, content_views)
        )
    return content_scores(content_vecs, views, work_views, paired_vecs), content_vecs


def embed_scheme(
    content: Embedder, images: Sequence[Image.Image], content_views: str
) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
    """[n, v, d]: every image's query views, and [n, d]: its paired view (None without
    one), embedded in one pass as matching embeds a query."""
    scheme = VIEWS[content_views]
    made = [scheme.embedded(img) for img in images]  # query views, then any paired view
    embedded = embed_each(lambda imgs: embed_all(content, imgs), made, content.dim)
    width = embedded.shape[1] - (scheme.paired is not None)  # the query views
    return embedded[:, :width], (embedded[:, width] if scheme.paired is not None else None)


def pdq_null(images: Sequence[Image.Image], creators: Sequence[str]) -> NDArray[np.float32]:
    """Smallest Hamming distance over a query's 8 dihedral hashes to each work by another
    creator, as matching computes it."""
    labels = np.asarray(creators)
    codes = hash_batch(images)
    out = [dihedral_distances(img, codes[labels != labels[i]]) for i, img in enumerate(images)]
    return np.concatenate(out).astype(np.float32)


def style_nulls(
    vectors: NDArray[np.float32], creators: Sequence[str], max_m: int
) -> list[NDArray[np.float32]]:
    """For m = 1..max_m: mean of an image's top-m similarities to each other creator
    having at least m works (the aggregate matching reports per creator)."""
    labels = np.asarray(creators)
    sims = vectors @ vectors.T
    nulls: list[list[float]] = [[] for _ in range(max_m)]
    for c in np.unique(labels):
        cols = np.flatnonzero(labels == c)
        rows = np.flatnonzero(labels != c)
        top = -np.sort(-sims[np.ix_(rows, cols)], axis=1)
        for m in range(1, min(max_m, len(cols)) + 1):
            nulls[m - 1].extend(top[:, :m].mean(axis=1).tolist())
    return [np.asarray(n, np.float32) for n in nulls if n]


def distinct(images: Sequence[Image.Image]) -> list[int]:
    """Indices of the images left after dropping near-duplicates of an earlier one (PDQ
    distance <= 31 under any flip or quarter turn): a background set must not contain copies,
    or the nulls learn them."""
    codes = hash_batch(images)
    keep: list[int] = []
    for i, img in enumerate(images):
        if near_duplicate_of(img, codes[keep]) is None:
            keep.append(i)
    return keep


def fit_calibration(
    profile: str,
    content: Embedder,
    style: Embedder,
    groups: Mapping[str, Sequence[Image.Image]],
    source: str = "",
    content_views: str = "global",
    k: int = NEIGHBOURHOOD_K,
    parts: int = CONTENT_PARTS,
) -> Calibration:
    """Measure the nulls of a profile's models on background images grouped by creator
    (the content null in `parts` by each image's k-th closest other image, where the
    background holds more than k images per part)."""
    labels = [c for c, imgs in groups.items() for _ in imgs]
    everything = [img for imgs in groups.values() for img in imgs]
    keep = distinct(everything)
    creators = [labels[i] for i in keep]
    images = [everything[i] for i in keep]
    if len(set(creators)) < 2 or len(images) < 10:
        raise ValueError("calibration needs at least 2 creators and 10 images")
    style_vecs = embed_all(style, images)
    null_style = style_nulls(style_vecs, creators, MAX_WORKS_AVERAGED)
    models = {
        "content": content.model_id,
        "style": style.model_id,
        "pdq": PDQ_ID,
        "content_views": content_views,
        "local": local.MODEL_ID,
    }
    scheme = VIEWS[content_views]
    if scheme.indexes_work_views:  # as the library names its spaces' vectors
        models["content_crops"] = crops_space(content, scheme).model_id
    if scheme.paired is not None:
        models["content_paired"] = paired_space(content, scheme).model_id
    info = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "images": len(images),
        "near_duplicates_dropped": len(everything) - len(images),
        "creators": len(set(creators)),
    }
    scores, whole = background_scores(content, images, content_views)
    parts = parts if len(images) > k * parts else 1  # too few images to split: one null
    # split nulls count one creator's distinct works too: without them they rated 3.2% of
    # same-style drawings `possible` against a 1% claim (benchmarks/HISTORY.md, stop 31)
    recolours = recolour_pairs(images, creators) if parts > 1 else None
    nulls = content_nulls(scores, whole, creators, recolours, k, parts)
    if recolours is not None:
        info |= {
            "content_nulls": len(nulls.nulls),
            "neighbourhood_k": nulls.k,
            "recolour_pairs": int(recolours.sum()) // 2,
        }
    info["id"] = hashlib.sha256(repr((models, sorted(info.items()))).encode()).hexdigest()[:12]
    return Calibration(
        profile=profile,
        models=models,
        content=nulls,
        pdq=NullDistribution.fit(pdq_null(images, creators), higher_is_closer=False),
        style=tuple(NullDistribution.fit(n) for n in null_style),
        info=info,
        local=NullDistribution.fit(local_null(images, scores)),
    )
