"""End to end with the real default models and calibration on the bundled examples:
register -> an edited copy matches its source -> unseen work matches its artist's style ->
remove -> the copy no longer matches, also after a restart."""

import csv
from pathlib import Path

import pytest

from models.images import load_image_file
from service.bulk import register_sources
from service.registration import from_directory
from service.runtime import Runtime, build_runtime
from service.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
pytestmark = pytest.mark.slow


def _suspects(kind: str) -> list[dict[str, str]]:
    with (EXAMPLES / "suspects.csv").open(newline="") as fh:
        return [row for row in csv.DictReader(fh) if row["kind"] == kind]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    data = tmp_path_factory.mktemp("e2e") / "data"
    runtime = build_runtime(Settings(data_dir=data, _env_file=None))  # type: ignore[call-arg]
    summary = register_sources(
        runtime.library, runtime.settings, from_directory(EXAMPLES / "gallery")
    )
    assert summary["registered"] == 30 and summary["failed"] == 0
    runtime.library.save()
    return runtime


def _match(runtime: Runtime, path: Path):  # type: ignore[no-untyped-def]
    loaded = load_image_file(path, runtime.settings.limits)
    return runtime.matcher.match([loaded], runtime.options(5))[0]


def test_edited_copies_rank_their_source_first(real: Runtime) -> None:
    verdicts = []
    for row in _suspects("edited_copy"):
        result = _match(real, EXAMPLES / row["path"])
        assert result.content.matches[0].work_id == row["work_id"], row
        verdicts.append(result.content.verdict)
    # the recoloured, captioned copy is a calibrated match; the recompressed half crop and
    # the small screenshot paste-in rank first short of the cut (how often each edit is
    # found: the copy table in benchmarks/RESULTS.md)
    assert "match" in verdicts, verdicts


def test_unrelated_photos_do_not_match(real: Runtime) -> None:
    for row in _suspects("unrelated"):
        result = _match(real, EXAMPLES / row["path"])
        assert result.content.verdict == "none", row
        assert result.style.verdict != "match", row


def test_unseen_works_rank_their_artist_high(real: Runtime) -> None:
    ranks = []
    for row in _suspects("unseen_work"):
        creators = [c.creator_id for c in _match(real, EXAMPLES / row["path"]).style.creators]
        ranks.append(creators.index(row["creator_id"]) if row["creator_id"] in creators else 99)
        assert _match(real, EXAMPLES / row["path"]).content.verdict != "match"
    assert sum(r == 0 for r in ranks) >= 2, ranks  # six artists: chance would be 1 in 6


def test_removal_is_immediate_and_survives_restart(real: Runtime) -> None:
    row = _suspects("edited_copy")[0]
    real.library.remove(row["work_id"])
    after = _match(real, EXAMPLES / row["path"])
    assert row["work_id"] not in [m.work_id for m in after.content.matches]
    assert after.content.verdict != "match" or after.content.matches[0].work_id != row["work_id"]
    again = build_runtime(real.settings)
    assert len(again.library) == 29
    assert row["work_id"] not in [
        m.work_id for m in _match(again, EXAMPLES / row["path"]).content.matches
    ]


def test_random_noise_is_not_registered(real: Runtime) -> None:
    """Found by QA: two random 2000x6 noise strips were a content match (cosine 0.97): to the
    model every noise image is one grey texture. Measured (HISTORY, stop 42): noise of any
    size scores 0.86-0.99 against other noise of its size, the dev sets' works at most 0.65; every
    work of the gallery registered (the fixture checks it)."""
    import io

    import numpy as np
    from PIL import Image

    from models.errors import FeaturelessImage
    from service.registration import submission

    rng = np.random.default_rng(5)
    colour = [rng.integers(0, 256, (h, w, 3), np.uint8) for w, h in ((2000, 6), (400, 20))]
    grey = np.repeat(rng.integers(0, 256, (300, 400, 1), np.uint8), 3, axis=2)
    binary = np.repeat(rng.integers(0, 2, (300, 400, 1), np.uint8) * 255, 3, axis=2)
    for pixels in (*colour, grey, binary):  # found by QA: grey and 1-bit noise slipped by
        width = pixels.shape[1]
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "PNG")
        item = submission(
            buf.getvalue(),
            "noisy",
            f"noisy/{width}-{pixels.mean():.0f}.png",
            "test",
            real.settings.limits,
        )
        with pytest.raises(FeaturelessImage, match="random noise to the content model"):
            real.library.register_one(item)
    assert real.library.catalog.works("noisy") == []
