"""In a real browser, a creator's portfolio: uploading several files (progress, per-file
results, a file that is not an image explained), consent terms saved and shown again, the
works listed with previews, one removed and then all, each with its signed receipt; and an
admin opening any creator's portfolio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from service.consent import effective
from tests.web.conftest import EXAMPLES, Live, shot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload, Page

pytestmark = pytest.mark.slow
ZAZOU = EXAMPLES / "gallery" / "zazou"


def _payload(name: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": "image/png", "buffer": data}


def test_a_creator_uploads_sets_terms_and_opts_out(page: Page, live: Live) -> None:
    from playwright.sync_api import expect

    sign_in(page, live, live.key("creator", "zazou"))
    page.get_by_role("button", name="My portfolio").click()
    expect(page.locator("#portfolio-title")).to_have_text("Portfolio of zazou")
    expect(page.locator("#works-title")).to_have_text("Registered works: 0")

    files = [
        _payload("computer.png", (ZAZOU / "computer.png").read_bytes()),
        _payload("notes.png", b"these are my notes, not a drawing"),
        _payload("house.png", (ZAZOU / "house.png").read_bytes()),
    ]
    page.get_by_label("Drop images here, or choose several").set_input_files(files)
    expect(page.locator("#upload-status")).to_have_text(
        "Uploaded 2 of 3 files; 1 failed (see below)."
    )
    assert page.locator("#upload-progress").evaluate("p => [p.value, p.max]") == [3, 3]
    results = page.locator("#upload-results > li")
    expect(results.nth(0)).to_contain_text("computer.png: registered as zazou/computer.png")
    expect(results.nth(1)).to_contain_text("notes.png: This file is not an image the service")
    expect(results.nth(1)).to_contain_text("looks like text")
    expect(page.locator("#works-title")).to_have_text("Registered works: 2")
    preview = page.get_by_alt_text("Preview of zazou/house.png")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.naturalWidth > 0")

    page.get_by_label("When an image matches my works").select_option("revshare")
    page.get_by_label("Revenue share (percent").fill("12.34")  # a step of 0.1 once blocked it
    page.get_by_label("Allow AI training on my works").check()
    page.get_by_label("Credit line").fill("Zazou, openclipart")
    page.get_by_role("button", name="Save terms").click()
    expect(page.locator("#terms-status")).to_have_text(
        "Terms saved: they apply from the very next match."
    )
    stored, _ = live.runtime.library.catalog.terms_for(["zazou"], [])
    terms = effective(stored["zazou"])
    assert (terms.policy, terms.revshare_rate, terms.training_allowed) == ("revshare", 0.1234, True)
    page.reload()
    page.get_by_role("button", name="My portfolio").click()
    expect(page.get_by_label("Revenue share (percent")).to_have_value("12.34")
    expect(page.get_by_label("Credit line")).to_have_value("Zazou, openclipart")
    shot(page, "portfolio")

    page.get_by_role("button", name="Remove zazou/computer.png").click()
    receipt = page.locator(".receipt-summary")
    expect(receipt).to_contain_text("Removed 1 work (zazou/computer.png)")
    expect(receipt).to_contain_text("signed by the service's Ed25519 key")
    expect(page.locator("#works-title")).to_have_text("Registered works: 1")

    page.get_by_role("button", name="Remove all my works…").click()
    expect(page.locator("#remove-all-question")).to_contain_text("Remove all 1 works of zazou?")
    page.get_by_role("button", name="Yes, remove all").click()
    expect(receipt).to_contain_text("Removed 1 work (zazou/house.png)")
    expect(page.locator("#works-list")).to_have_text("No registered works.")
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download receipt").click()
    signed = json.loads(Path(downloaded.value.path()).read_text())
    assert signed["signature"]["alg"] == "Ed25519" and signed["body"]["creator_id"] == "zazou"
    assert live.runtime.library.catalog.works("zazou", 10, 0) == []
    shot(page, "portfolio-removed")


def test_an_admin_opens_any_creator_s_portfolio(page: Page, live: Live) -> None:
    from playwright.sync_api import expect

    sign_in(page, live, "test-admin-key")
    page.get_by_role("button", name="My portfolio").click()
    page.get_by_label("Creator id").fill("juliane-krug")
    page.get_by_role("button", name="Open portfolio").click()
    expect(page.locator("#works-title")).to_have_text("Registered works: 3")
    expect(page.get_by_alt_text("Preview of juliane-krug/gold-envelope.png")).to_be_visible()
