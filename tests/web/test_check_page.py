"""In a real browser: signing in (a bad key is explained, the key stays out of the URL and of
localStorage), checking an image by drag and drop (verdicts side by side in words, previews of
the matched works, the creator's policy, filing a claim, downloading the evidence packet),
and the page at phone width, by keyboard, with a key that may not see previews."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import EXAMPLES, Live, shot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow
COPY = EXAMPLES / "suspects" / "suspect_07.png"  # a recoloured, captioned four-wheel-drive.png
LISTED = re.compile(r"^(No claims match|\d+ claims?)\.$")


def drop_file(page: Page, selector: str, path: Path) -> None:
    """Drop a file on an element, as a person dragging it from their desktop would."""
    transfer = page.evaluate_handle(
        """([name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/png" }));
            return transfer;
        }""",
        [path.name, base64.b64encode(path.read_bytes()).decode()],
    )
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_sign_in_explains_a_bad_key_and_keeps_the_key_out_of_urls(page: Page, live: Live) -> None:
    from playwright.sync_api import expect

    page.goto(live.url)
    page.get_by_label("API key").fill("my key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-status")).to_contain_text("That is not an API key")
    page.get_by_label("API key").fill("not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-status")).to_contain_text("Your key was not accepted")
    expect(page.locator("#nav")).to_be_hidden()

    key = live.key("reviewer")
    sign_in(page, live, key)
    expect(page.locator("#who-text")).to_contain_text("Signed in as reviewer")
    expect(page.get_by_role("button", name="My portfolio")).to_be_hidden()
    assert key not in page.url
    assert page.evaluate("sessionStorage.getItem('styletrace.key')") == key
    assert page.evaluate("localStorage.length") == 0

    page.reload()  # the tab remembers the key until it is closed or the person signs out
    expect(page.locator("#who")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('styletrace.key')") is None


def test_a_copy_is_checked_then_claimed_with_evidence(page: Page, live: Live) -> None:
    from playwright.sync_api import expect

    live.runtime.library.catalog.set_creator_terms(
        "andy-fitzsimon", {"policy": "takedown", "credit": "Andy Fitzsimon"}, "test"
    )
    sign_in(page, live, live.key("creator", "andy-fitzsimon"))
    drop_file(page, "#check-drop", COPY)

    content = page.locator("#content-verdict")
    expect(content.locator(".verdict")).to_have_text("Match")
    expect(content.locator(".strength")).to_contain_text(" unrelated images would score this high")
    style = page.locator("#style-verdict")
    assert style.locator(".verdict").inner_text() in {"Match", "Possible match", "No match"}
    expect(style.locator(".strength")).to_contain_text("unrelated images")
    expect(page.locator("#check-status")).to_contain_text("Checked suspect_07.png")
    expect(page.get_by_alt_text("Your image, suspect_07.png")).to_be_visible()
    caption = "The red outline marks where andy-fitzsimon/four-wheel-drive.png lies in it."
    expect(page.locator(".query figcaption")).to_contain_text(caption)
    corners = page.locator(".query svg.outline polygon").get_attribute("points") or ""
    assert len(corners.split()) == 4  # the work's box, placed over the preview
    drawn = page.locator(".query svg.outline polygon").bounding_box()
    picture = page.get_by_alt_text("Your image, suspect_07.png").bounding_box()
    assert drawn and picture  # around the car, above the caption printed under it
    assert (
        picture["x"] - 2 <= drawn["x"]
        and drawn["x"] + drawn["width"] <= picture["x"] + picture["width"] + 2
    )
    assert (
        picture["y"] - 2 <= drawn["y"]
        and drawn["y"] + drawn["height"] <= picture["y"] + picture["height"] + 2
    )
    assert (
        drawn["width"] > 0.7 * picture["width"]
        and 0.5 * picture["height"] < drawn["height"] < 0.95 * picture["height"]
    )
    source = page.get_by_alt_text("Preview of andy-fitzsimon/four-wheel-drive.png").first
    expect(source).to_be_visible()
    assert source.evaluate("img => img.complete && img.naturalWidth > 0")
    figure = page.locator("#content-verdict li").filter(has=source)  # the keypoint evidence
    expect(figure).to_contain_text(re.compile(r"\d+ keypoints agree on one placement, across \d+%"))
    basis = re.compile(r"^Carried by .* pairs measured came this close.*; on the measured pairs")
    expect(figure.locator(".basis")).to_contain_text(basis)
    expect(page.locator(".policy")).to_contain_text("Resolved: takedown")
    expect(page.locator(".policy")).to_contain_text("credit: Andy Fitzsimon")
    shot(page, "check-copy")

    page.get_by_label("Kind of claim").select_option("takedown")
    page.get_by_role("button", name="File a claim").click()
    status = page.locator("#check-action-status")
    expect(status).to_contain_text("filed for andy-fitzsimon: open")
    expect(status).to_contain_text("Open to dispute until")
    claims = live.runtime.library.claims.find("andy-fitzsimon", None, 10)
    assert [(c.kind, c.status) for c in claims] == [("takedown", "open")]

    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download evidence packet").click()
    packet = Path(downloaded.value.path()).read_bytes()
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(packet)).namelist()
    expect(status).to_contain_text("Evidence packet downloaded")


def test_phone_width_keyboard_and_a_platform_key(phone: Page, live: Live) -> None:
    from playwright.sync_api import expect

    sign_in(phone, live, live.key("platform"))
    phone.get_by_label("Drop an image here, or choose one").set_input_files(str(COPY))
    expect(phone.locator("#content-verdict .verdict")).to_have_text("Match")
    # a platform key matches but may not see registered works: a note stands in for previews
    expect(phone.locator("#content-verdict .placeholder").first).to_have_text(
        "no preview for this key"
    )
    expect(phone.get_by_role("button", name="File a claim")).to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    unlabelled = phone.evaluate(
        """[...document.querySelectorAll('input, select, textarea')]
            .filter((el) => !el.labels.length && !el.getAttribute('aria-label'))
            .map((el) => el.id || el.outerHTML)"""
    )
    assert unlabelled == []
    shot(phone, "check-phone")

    phone.get_by_role("link", name="Skip to content").focus()
    phone.keyboard.press("Tab")  # onto the first section button
    phone.keyboard.press("Tab")
    focused = phone.evaluate(
        "(el) => [el.textContent, getComputedStyle(el).outlineStyle]",
        phone.evaluate_handle("document.activeElement"),
    )
    assert focused == ["Claims", "solid"]  # a platform key has no portfolio or scans
    phone.keyboard.press("Enter")
    expect(phone.locator("#claims-title")).to_be_focused()
    expect(phone.locator("#claims-status-line")).to_have_text(LISTED)


def test_the_api_docs_render_with_no_network(page: Page, live: Live) -> None:
    """Found by QA: /docs fetched Swagger UI from a CDN, so it was blank offline. Every
    request leaving this server is refused here, and the operations still show."""
    from playwright.sync_api import Route, expect

    elsewhere: list[str] = []

    def local_only(route: Route) -> None:
        if route.request.url.startswith(live.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.goto(f"{live.url}/docs")
    expect(page.locator('.opblock-summary-path[data-path="/v1/match"]').first).to_be_visible()
    assert elsewhere == []


def test_a_match_on_a_work_registered_with_a_conflict_says_so(page: Page, live: Live) -> None:
    """Found by QA: an ownership conflict was a registration warning only; the check that
    leads to a claim listed the copier's work without a word."""
    import httpx
    from playwright.sync_api import expect

    original = EXAMPLES / "gallery" / "andy-fitzsimon" / "four-wheel-drive.png"
    copied = httpx.post(
        f"{live.url}/v1/works",
        headers={"Authorization": f"Bearer {live.key('admin')}"},
        data={"creator_id": "mallory", "work_id": "mallory/truck.png"},
        files={"image": ("truck.png", original.read_bytes(), "image/png")},
    )
    assert copied.status_code == 201 and copied.json()["warnings"], copied.text
    sign_in(page, live, live.key("reviewer"))
    drop_file(page, "#check-drop", COPY)
    expect(page.locator("#content-verdict .verdict")).to_have_text("Match")
    expect(page.locator("#content-verdict .gallery .warning")).to_have_text(
        "Registered with a warning: ownership conflict: the same bytes already registered by "
        "creator 'andy-fitzsimon' as 'andy-fitzsimon/four-wheel-drive.png'."
    )
