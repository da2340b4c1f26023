"""In a real browser, a reviewer scans a folder under the scan root: progress to the end, the
hit with previews of the scanned image and of the work it copies, the CSV export; and a
manifest reaching outside the root refused with the reason in words."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import Live, shot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow


def test_a_reviewer_scans_a_folder_and_browses_the_hits(page: Page, live: Live) -> None:
    from playwright.sync_api import expect

    sign_in(page, live, live.key("reviewer"))
    page.get_by_role("button", name="Scans").click()
    page.get_by_label("Or a manifest").set_input_files(
        files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": b"path\n../x.png\n"}]
    )
    page.get_by_role("button", name="Start scan").click()
    expect(page.locator("#scan-status")).to_have_text(
        "Some input was not accepted. Manifest line 2: '../x.png': give a path relative to "
        "the scan root, without '..'."
    )
    page.get_by_label("Or a manifest").set_input_files([])

    assert live.runtime.settings.scan_root is not None
    (live.runtime.settings.scan_root / "batch" / "prompt.txt").write_text("a fox, oil on canvas")
    (live.runtime.settings.scan_root / "batch" / "broken.png").write_text("not an image")
    page.get_by_label("Folder (relative to the scan root").fill("batch")
    page.get_by_role("button", name="Start scan").click()
    expect(page.locator("#scan-status")).to_have_text(
        "Done: 3 images scanned, 1 could not be (unsupported_image 1). "
        "Left out 1 file that is not an image (.txt 1)."
    )
    assert page.locator("#scan-progress").evaluate("p => [p.value, p.max]") == [3, 3]
    expect(page.locator("#scan-rows-title")).to_have_text("Hits: 1")
    hit = page.locator(".scan-hit")
    expect(hit).to_contain_text("Content: Match")
    for alt in (
        "Scanned image batch/suspect_07.png",
        "Preview of andy-fitzsimon/four-wheel-drive.png",
    ):
        image = hit.get_by_alt_text(alt)
        expect(image).to_be_visible()
        assert image.evaluate("img => img.naturalWidth > 0")
    shot(page, "scans")

    page.locator("#scan-hits").get_by_role("button", name="Show errors").click()  # QA: no codes
    expect(page.locator(".scan-rows li")).to_have_text(
        re.compile(r"^batch/broken\.png unsupported_image: .+")
    )
    page.locator("#scan-hits").get_by_role("button", name="Show hits").click()
    expect(page.locator("#scan-rows-title")).to_have_text("Hits: 1")

    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(downloaded.value.path()).read_text())))
    assert sorted((r["path"], r["content_verdict"], r["error_code"]) for r in rows) == [
        ("batch/broken.png", "", "unsupported_image"),
        ("batch/suspect_03.png", "none", ""),
        ("batch/suspect_07.png", "match", ""),
    ]


def test_a_reviewer_cancels_a_running_scan_and_resumes_it(
    page: Page, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by QA: a scan could not be stopped short of restarting the server."""
    import threading

    from playwright.sync_api import expect

    go, real_match = threading.Event(), live.runtime.matcher.match

    def held(*args: object) -> object:
        go.wait(60)
        return real_match(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(live.runtime.matcher, "match", held)
    sign_in(page, live, live.key("reviewer"))
    page.get_by_role("button", name="Scans").click()
    page.get_by_label("Folder (relative to the scan root").fill("batch")
    page.get_by_role("button", name="Start scan").click()
    cancel = page.get_by_role("button", name="Cancel")
    expect(cancel).to_have_count(1)
    cancel.click()
    expect(page.locator("#scan-status")).to_have_text(  # found by QA: 'Scanning…', no more
        re.compile(
            r"^Scanning: 0 of \d+ images… Cancelled by .+: it stops after the images in hand\.$"
        )
    )
    go.set()
    status = page.locator("#scan-status")
    expect(status).to_have_text(re.compile(r"^Interrupted: cancelled by .+; resume it to scan"))
    monkeypatch.undo()
    page.get_by_role("button", name="Resume").first.click()
    expect(status).to_have_text(re.compile(r"^Done: \d+ images scanned"))
