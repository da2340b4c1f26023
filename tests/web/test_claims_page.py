"""In a real browser, two claims through their lifecycle: a platform sees the dispute window
and disputes one, a reviewer filters for it and upholds it, the claimant sees the decision
and withdraws the other; an action made stale by someone else is refused with the server's
reason in words."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from PIL import Image

from tests.web.conftest import EXAMPLES, WAIT_MS, Live, fresh_page, shot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.slow
CREATOR = "andy-fitzsimon"


@pytest.fixture(scope="module")
def filed(live: Live) -> tuple[str, str, str]:
    """The claimant's key and two claims it filed over HTTP for two copies of one work (one
    claim per image at a time)."""
    key = live.key("creator", CREATOR)
    copy = EXAMPLES / "suspects" / "suspect_07.png"
    again = io.BytesIO()
    Image.open(copy).convert("RGB").save(again, "JPEG", quality=90)  # the copy re-saved
    ids = []
    for kind, image in (("revshare", copy.read_bytes()), ("takedown", again.getvalue())):
        answer = httpx.post(
            f"{live.url}/v1/claims",
            headers={"Authorization": f"Bearer {key}"},
            data={"kind": kind},
            files={"image": ("copy.png", image, "image/png")},
            timeout=WAIT_MS / 1000,
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["claim_id"])
    return key, ids[0], ids[1]


def card(page: Page, claim_id: str) -> Locator:
    return page.locator(f"#claim-{claim_id}")


def act(page: Page, claim_id: str, action: str, reason: str) -> None:
    """Give a reason and press an action's button on a claim's card."""
    page.get_by_label("Reason, for the record").and_(page.locator(f"#reason-{claim_id}")).fill(
        reason
    )
    card(page, claim_id).get_by_role("button", name=action).click()


def test_dispute_uphold_and_withdraw(
    browser: Browser, page: Page, live: Live, filed: tuple[str, str, str]
) -> None:
    from playwright.sync_api import expect

    claimant, first, second = filed
    sign_in(page, live, live.key("platform"))
    page.get_by_role("button", name="Claims").click()
    expect(page.locator("#claims-status-line")).to_have_text("2 claims.")
    expect(card(page, first)).to_contain_text("Status: open")
    expect(card(page, first).locator(".window")).to_contain_text("Open to dispute until")
    expect(card(page, first)).to_contain_text("Match: copy of andy-fitzsimon/four-wheel-drive.png")
    expect(card(page, first).get_by_role("button", name="Uphold")).to_have_count(0)
    card(page, first).get_by_role("button", name="Dispute").click()
    expect(card(page, first).locator(".status")).to_have_text(
        "Give a reason first: it is kept in the claim's history."
    )
    act(page, first, "Dispute", "licensed from the artist")
    expect(card(page, first)).to_contain_text("Status: disputed")
    expect(card(page, first).locator(".history")).to_contain_text(
        "open → disputed (licensed from the artist)"
    )

    with fresh_page(browser, 1000, 900) as reviewer:
        sign_in(reviewer, live, live.key("reviewer"))
        reviewer.get_by_role("button", name="Claims").click()
        waiting = "A decision waits until the claim is disputed"
        expect(card(reviewer, second)).to_contain_text(waiting)
        reviewer.get_by_label("Status").select_option("disputed")
        reviewer.get_by_role("button", name="Show claims").click()
        expect(reviewer.locator("#claims-status-line")).to_have_text("1 claim.")
        act(reviewer, first, "Uphold", "the copy is plain")
        expect(card(reviewer, first)).to_contain_text("Status: upheld")
        upheld = f"Claim {first} is now upheld."
        expect(card(reviewer, first).locator(".status")).to_have_text(upheld)

    with fresh_page(browser, 1000, 900) as owner:
        sign_in(owner, live, claimant)
        owner.get_by_role("button", name="Claims").click()
        expect(owner.locator("#claims-creator")).to_be_hidden()  # a creator sees their own only
        expect(card(owner, first)).to_contain_text("Status: upheld")
        expect(card(owner, first).get_by_role("button", name="Withdraw")).to_have_count(0)
        act(owner, second, "Withdraw", "settled with the platform")
        expect(card(owner, second)).to_contain_text("Status: withdrawn")
        with owner.expect_download() as downloaded:
            card(owner, first).get_by_role("button", name="Download evidence").click()
        assert "manifest.json" in zipfile.ZipFile(Path(downloaded.value.path())).namelist()
        shot(owner, "claims")

    # the platform's page still offers to dispute the claim that was withdrawn meanwhile
    act(page, second, "Dispute", "too late")
    expect(card(page, second).locator(".status")).to_have_text(
        "This conflicts with the current state. A claim that is withdrawn cannot be disputed."
    )
    assert [c.status for c in live.runtime.library.claims.find(CREATOR, None, 10)] == [
        "withdrawn",
        "upheld",
    ]
