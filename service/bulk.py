"""Bulk operations over many files: registering a folder or manifest in batches (decoding
ahead of the models), and calibrating a profile on a folder of background images."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from indexer.library import Library
from indexer.spaces import Registered, Submission
from models.registry import CALIBRATION_DIR, load_profile
from service.calibrate import fit_calibration
from service.pipeline import decoded_batches
from service.registration import WorkSource, submission
from service.scan_report import json_text
from service.settings import Settings


def register_sources(
    library: Library,
    settings: Settings,
    sources: Iterable[WorkSource],
    progress: bool = False,
    actor: str = "system",
) -> dict[str, object]:
    """Register works batch by batch; unreadable files are counted and reported, not fatal,
    and registration warnings (ownership conflicts, metadata naming another creator) listed."""
    items = list(sources)
    counts: dict[str, int] = {"registered": 0, "unchanged": 0, "failed": 0}
    errors: list[dict[str, object]] = []
    warnings: list[dict[str, str]] = []

    def load(src: WorkSource) -> Submission:
        try:
            data = src.path.read_bytes()
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"there is no file at {json_text(str(src.path))}") from exc
        return submission(
            data, src.creator_id, src.work_id, str(src.path), settings.limits, src.meta
        )

    def failed(src: WorkSource, error: object) -> dict[str, object]:
        """An error entry naming the work and where it came from (a manifest's line)."""
        where = {"line": src.line} if src.line is not None else {}
        entry = {"work_id": src.work_id, "path": json_text(str(src.path)), **where}
        return entry | {"error": json_text(str(error))}

    with tqdm(total=len(items), unit="img", disable=not progress) as bar:
        for batch in decoded_batches(items, load, settings.batch_size, settings.decode_workers):
            good = [(src, sub) for src, sub in batch if isinstance(sub, Submission)]
            for src, sub in batch:
                if not isinstance(sub, Submission):
                    counts["failed"] += 1
                    errors.append(failed(src, sub))
            outcomes = library.register([sub for _, sub in good], actor)
            for (src, sub), outcome in zip(good, outcomes, strict=True):
                if isinstance(outcome, Registered):
                    counts["registered" if outcome.created else "unchanged"] += 1
                    warnings += [
                        {"work_id": outcome.work.work_id, "warning": w}
                        for w in outcome.work.warnings
                        if outcome.created
                    ]
                    kept = (outcome.work.meta or {}).get("columns", {})
                    same = not outcome.created and outcome.work.work_id == sub.work_id
                    if same and (sub.meta or {}).get("columns", {}) != kept:
                        warnings.append(
                            {
                                "work_id": outcome.work.work_id,
                                "warning": "already registered with other columns, which are "
                                "kept; remove the work and register it again to change them",
                            }
                        )
                    if outcome.work.work_id != sub.work_id:  # the creator's same bytes
                        warnings.append(
                            {
                                "work_id": sub.work_id,
                                "warning": f"the same image is registered as "
                                f"{outcome.work.work_id}; not registered again",
                            }
                        )
                else:
                    counts["failed"] += 1
                    errors.append(failed(src, outcome))
            bar.update(len(batch))
    return {**counts, "errors": errors[:100], "warnings": warnings[:100]}


def calibrate_from(settings: Settings, sources: Iterable[WorkSource], out: Path | None) -> Path:
    """Fit and write the calibration of the configured profile on background images."""
    profile = load_profile(settings.profile)
    groups: dict[str, list[Image.Image]] = defaultdict(list)
    for src in sources:
        groups[src.creator_id].append(
            submission(
                src.path.read_bytes(), src.creator_id, src.work_id, "", settings.limits
            ).image
        )
    cal = fit_calibration(
        profile.name,
        profile.embedder("content"),
        profile.embedder("style"),
        groups,
        source="styletrace calibrate",
        content_views=profile.content_views,
    )
    path = out or (
        Path(settings.calibration)
        if settings.calibration
        else CALIBRATION_DIR / f"{profile.name}.json"
    )
    cal.save(path)
    return path
