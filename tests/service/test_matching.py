"""Matching on the fakes: copies match by content, same-palette drawings by style, and the
verdicts follow the calibrated rates."""

import dataclasses
import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from indexer.spaces import Hit, Submission
from models import local
from models.images import LoadedImage
from models.pdq import MATCH_DISTANCE
from service.calibrate import fit_calibration
from service.calibration import any_of, counted_bound, poisson_upper
from service.matching import Matcher, whole_images
from service.runtime import Runtime
from service.style_scoring import style_result
from tests.fakes import PALETTES, HistogramEmbedder, PixelEmbedder, drawing


def _register_gallery(runtime: Runtime, works: int = 4) -> None:
    subs = []
    for ci, creator in enumerate(("alice", "bob", "carol")):
        for seed in range(works):
            img = drawing(100 * ci + seed, PALETTES[creator])
            data = img.tobytes()
            subs.append(
                Submission(
                    creator,
                    f"{creator}/{seed}.png",
                    img,
                    data,
                    hashlib.sha256(data).hexdigest(),
                    "test",
                )
            )
    runtime.library.register(subs)


def _query(img: Image.Image) -> LoadedImage:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return LoadedImage(img, hashlib.sha256(buf.getvalue()).hexdigest(), *img.size, "PNG")


def test_exact_and_flipped_copies_match_by_content(runtime: Runtime) -> None:
    _register_gallery(runtime)
    original = drawing(102, PALETTES["bob"])  # bob/2.png
    exact = runtime.matcher.match([_query(original)], runtime.options(3))[0]
    assert exact.content.matches[0].work_id == "bob/2.png"
    assert exact.content.verdict == "match" and exact.content.matches[0].pdq_distance == 0
    flipped = runtime.matcher.match([_query(ImageOps.mirror(original))], runtime.options(3))[0]
    assert flipped.content.matches[0].work_id == "bob/2.png"
    assert flipped.content.matches[0].pdq_distance == 0  # PDQ's dihedral hashes see flips
    assert flipped.content.verdict == "match"


def test_each_rate_names_the_tests_behind_it(runtime: Runtime) -> None:
    _register_gallery(runtime)
    result = runtime.matcher.match([_query(drawing(102, PALETTES["bob"]))], runtime.options(5))[0]
    best = result.content.matches[0]
    assert {"embedding", "pdq", "keypoints"} <= best.tests.keys()
    pdq = best.tests["pdq"]
    assert pdq.value == 0 and pdq.closer == 0  # no non-match in the null is this close
    cal, works = runtime.matcher.calibration, len(runtime.library)
    assert pdq.null_pairs == cal.pdq.n
    assert pdq.upper == pytest.approx(any_of(poisson_upper(0) / cal.pdq.n, works))
    assert pdq.calibrated < pdq.upper  # the fitted tail claims more than the counts
    assert best.calibrated == pytest.approx(3 * min(t.calibrated for t in best.tests.values()))
    for row in [*result.content.matches, *result.style.matches, *result.style.creators]:
        assert row.tests and all(t.calibrated <= t.upper <= 1 for t in row.tests.values())
    for row in result.content.matches:  # rates combine over the three tests that ran
        rates = [t.calibrated for t in row.tests.values()]
        assert row.calibrated == pytest.approx(min(1.0, 3 * min(rates, default=1.0)))
        assert row.calibrated <= row.upper <= 1
    content_null = cal.content.nulls[0]  # one part, as shipped: no neighbourhood to name
    assert len(cal.content.nulls) == 1 and best.tests["embedding"].null_part is None
    # past every null, each test's counts vouch for one in its pairs (at 1 - 5%/3), summed
    each = poisson_upper(0, 1 - 0.05 / 3)
    nulls = [(content_null, works), (cal.pdq, works), (cal.local, local.CANDIDATES)]
    assert best.upper == pytest.approx(sum(any_of(each / null.n, c) for null, c in nulls))
    assert result.content.upper == best.upper
    creator = result.style.creators[0]
    assert creator.tests["style"].calibrated == creator.calibrated
    assert result.style.upper == creator.upper == creator.tests["style"].upper


def test_a_split_content_null_is_read_by_the_query_s_neighbourhood(runtime: Runtime) -> None:
    """With the content null in two parts, the embedding's rate comes from the part of the
    query's k-th closest background image, and its basis names both."""
    groups = {
        f"bg-{name}": [drawing(10_000 + i, pal) for i in range(50)]
        for name, pal in PALETTES.items()
    }
    split = fit_calibration("fake", PixelEmbedder(), HistogramEmbedder(), groups, k=10, parts=2)
    assert len(split.content.nulls) == 2 and split.content.background is not None
    assert split.info["content_nulls"] == 2 and "recolour_pairs" in split.info
    _register_gallery(runtime)
    matcher = Matcher(runtime.library, split)
    parts = []
    for seed, palette in ((102, "bob"), (9999, "carol")):
        image = drawing(seed, PALETTES[palette])
        result = matcher.match([_query(image)], runtime.options(3))[0]
        embedding = result.content.matches[0].tests["embedding"]
        whole = runtime.library.embedders["content"].embed([image])
        expected = split.content.neighbourhoods(whole)[0]
        assert embedding.neighbourhood == pytest.approx(expected, abs=1e-5)
        assert embedding.null_part == split.content.part(expected)
        parts.append(embedding.null_part)
        part_null = split.content.nulls[embedding.null_part]
        assert embedding.null_pairs == part_null.n
        works = len(runtime.library)
        rederived = any_of(part_null.rate(embedding.value), works)
        assert embedding.calibrated == pytest.approx(rederived, rel=1e-3)  # from the rounding
        # the bound sums what each test that ran vouches for: the embedding by its part's null
        row = result.content.matches[0]
        ran = [(part_null, works), (split.pdq, works), (split.local, local.CANDIDATES)]
        best = min(t.calibrated for t in row.tests.values())
        assert row.upper == pytest.approx(max(row.calibrated, counted_bound(ran, best)))
    assert parts == [1, 0]  # both parts read: drawing 102 has crowded surroundings, 9999 not


def test_whole_images_are_each_query_s_first_view() -> None:
    vecs = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    # three queries: whole image and crops, then a paired view last, as `embedded` orders them
    np.testing.assert_array_equal(whole_images(vecs, [3, 2, 5])[:, 0], [0, 3, 5])


def test_new_drawing_in_a_palette_matches_that_creator_by_style(runtime: Runtime) -> None:
    _register_gallery(runtime)
    result = runtime.matcher.match([_query(drawing(9999, PALETTES["carol"]))], runtime.options(3))[
        0
    ]
    assert result.style.creators[0].creator_id == "carol"
    assert result.style.creators[0].works == 3
    assert result.content.verdict != "match"
    assert len(result.style.matches) == 3 and len(result.content.matches) <= 3


def test_one_close_work_does_not_outrank_a_creator_with_several(runtime: Runtime) -> None:
    """A creator scores the mean of their m closest works; works outside the query's style
    neighbours count at the last neighbour's score, not at the creator's own last one (which
    counted alice's single close work three times and ranked her first)."""
    _register_gallery(runtime)
    works = {w.work_id: w for w in runtime.library.catalog.active().values()}
    hits = [
        Hit(0.90, works["alice/0.png"]),
        Hit(0.85, works["bob/0.png"]),
        Hit(0.84, works["bob/1.png"]),
        Hit(0.83, works["bob/2.png"]),
        Hit(0.20, works["carol/0.png"]),
    ]
    style = style_result(hits, runtime.options(3), runtime.matcher.calibration, runtime.library)
    assert [c.creator_id for c in style.creators[:2]] == ["bob", "alice"]
    alice = next(c for c in style.creators if c.creator_id == "alice")
    assert alice.works == 3 and abs(alice.score - (0.90 + 0.20 + 0.20) / 3) < 1e-6


def test_unrelated_image_gets_no_match(runtime: Runtime) -> None:
    _register_gallery(runtime)
    noise = Image.effect_noise((96, 96), 80).convert("RGB")
    result = runtime.matcher.match([_query(noise)], runtime.options())[0]
    assert result.content.verdict == "none"
    assert result.style.creators == [] or result.style.verdict != "match"


def test_empty_library_answers_none(runtime: Runtime) -> None:
    result = runtime.matcher.match([_query(drawing(1, PALETTES["dave"]))], runtime.options())[0]
    assert result.content.verdict == result.style.verdict == "none"
    assert result.content.matches == [] and result.style.creators == []
    assert result.models.content == "fake-pixels-8" and result.models.index.startswith("g")


def test_batch_results_follow_input_order(runtime: Runtime) -> None:
    _register_gallery(runtime)
    queries = [_query(drawing(s, PALETTES["alice"])) for s in (0, 1, 2)]
    results = runtime.matcher.match(queries, runtime.options(1))
    assert [r.content.matches[0].work_id for r in results] == [
        "alice/0.png",
        "alice/1.png",
        "alice/2.png",
    ]


def test_pdq_counts_only_within_its_match_distance(runtime: Runtime) -> None:
    """A new drawing is far from every work in PDQ terms: no PDQ evidence is reported, though
    the PDQ search returns every work of this small gallery as a neighbour."""
    _register_gallery(runtime)
    query = _query(drawing(4242, PALETTES["alice"]))
    result = runtime.matcher.match([query], runtime.options(12))
    distances = [m.pdq_distance for m in result[0].content.matches]
    assert all(d is None or d <= MATCH_DISTANCE for d in distances)
    # a wider reach (benchmarks/pdq_reach.py measures them) counts the far distances too
    wide = dataclasses.replace(runtime.options(12), pdq_reach=256)
    far = [m.pdq_distance for m in runtime.matcher.match([query], wide)[0].content.matches]
    assert all(d is not None for d in far) and max(far) > MATCH_DISTANCE  # type: ignore[type-var]


def _register_files(runtime: Runtime, rels: list[str]) -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "gallery"
    subs = []
    for rel in rels:
        data = (root / rel).read_bytes()
        img = Image.open(io.BytesIO(data)).convert("RGB")
        creator = rel.split("/")[0]
        subs.append(Submission(creator, rel, img, data, hashlib.sha256(data).hexdigest(), "test"))
    runtime.library.register(subs)


def _rotated_in_page(img: Image.Image) -> Image.Image:
    turned = img.resize((img.width * 2 // 3, img.height * 2 // 3)).rotate(
        14.0, Image.Resampling.BICUBIC, expand=True, fillcolor="white"
    )
    page = Image.new("RGB", (img.width * 2, img.height * 2), (235, 235, 235))
    page.paste(turned, (img.width // 2, img.height // 4))
    return page


def test_a_rotated_copy_in_a_page_is_found_by_its_keypoints(runtime: Runtime) -> None:
    _register_gallery(runtime, works=2)  # 9 works: all among the verified candidates
    rels = ["jean-victor-balin/bus.png", "gerald-g/hamburger.png", "jose-hevia/bomb.png"]
    _register_files(runtime, rels)
    root = Path(__file__).resolve().parents[2] / "examples" / "gallery"
    query = _rotated_in_page(Image.open(root / rels[0]).convert("RGB"))
    result = runtime.matcher.match([_query(query)], runtime.options(3))[0]
    assert result.models.verification == local.MODEL_ID
    best = result.content.matches[0]
    assert best.work_id == rels[0] and best.inliers is not None and best.inliers >= 15
    assert best.coverage is not None and best.coverage >= 0.9  # all of the drawing is there
    assert best.pdq_distance is None  # neither PDQ nor the pixel embedder sees this copy
    assert best.calibrated < 0.05  # the fakes' null: random shapes share a few corners
    without = dataclasses.replace(runtime.matcher.calibration, local=None)
    again = Matcher(runtime.library, without).match([_query(query)], runtime.options(9))[0]
    assert all(m.inliers is m.coverage is None for m in again.content.matches)
    assert again.models.verification is None
    assert next(m for m in again.content.matches if m.work_id == rels[0]).calibrated == 1.0
    assert best.mirrored is False
    # where the copy lies: around the middle of the turned drawing pasted into the page
    assert best.placement is not None and len(best.placement) == 4
    w, h = query.width // 2, query.height // 2  # the drawing's size
    small = (w * 2 // 3, h * 2 // 3)
    turned = Image.new("RGB", small).rotate(14.0, expand=True).size
    centre = (w // 2 + turned[0] / 2, h // 4 + turned[1] / 2)
    placed = [sum(c[k] for c in best.placement) / 4 for k in (0, 1)]
    assert abs(placed[0] - centre[0]) < 0.15 * small[0]
    assert abs(placed[1] - centre[1]) < 0.15 * small[1]
    assert all(m.placement is None for m in again.content.matches)
    # placed only where the keypoints alone reach `possible`: under a stricter threshold the
    # same 23 or so inliers are not enough to draw where the copy lies
    strict = dataclasses.replace(runtime.options(3), match_rate=1e-4, possible_rate=1e-3)
    held = runtime.matcher.match([_query(query)], strict)[0].content.matches[0]
    assert held.work_id == rels[0] and held.inliers == best.inliers
    assert best.tests["keypoints"].calibrated > 1e-3 and held.placement is None


def test_a_mirrored_crop_is_found_by_its_mirrored_keypoints(runtime: Runtime) -> None:
    _register_gallery(runtime, works=2)  # 9 works: all among the verified candidates
    rels = ["andy-fitzsimon/four-wheel-drive.png", "gerald-g/hamburger.png"]
    _register_files(runtime, rels)
    root = Path(__file__).resolve().parents[2] / "examples" / "gallery"
    car = Image.open(root / rels[0]).convert("RGB")  # seen from its left: not symmetric
    w, h = car.size
    box = (w // 10, h // 20, w // 10 + 4 * w // 5, h // 20 + 4 * h // 5)  # 80% of each side
    query = ImageOps.mirror(car).crop(box)
    best = runtime.matcher.match([_query(query)], runtime.options(3))[0].content.matches[0]
    assert best.work_id == rels[0] and best.mirrored is True
    assert best.inliers is not None and best.inliers >= 30
    assert best.tests["keypoints"].calibrated == min(t.calibrated for t in best.tests.values())
