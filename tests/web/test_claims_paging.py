"""In a real browser, a reviewer walks more claims than one page holds: "Show more claims"
continues the filters of the first page, once however fast it is pressed (found by QA: a
double press read a page twice, and a filter typed meanwhile left claims out)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from indexer.claims import Claim
from indexer.schema import now
from tests.web.conftest import Live, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow
FILED = 62  # more than the page's 50


def test_a_reviewer_walks_every_claim(page: Page, live: Live) -> None:
    from playwright.sync_api import expect

    at = now()
    base = Claim("c_0", "revshare", "open", "gerald-g", "k", "q" * 64, at, at, [], {}, "p", [])
    for i in range(FILED):  # stored directly: filing each over HTTP would match 62 images
        later = at + timedelta(seconds=i)
        live.runtime.library.claims.add(
            replace(base, claim_id=f"c_{i:04d}", query_sha256=f"{i:064d}", created_at=later)
        )
    sign_in(page, live, live.key("reviewer"))
    page.get_by_role("button", name="Claims").click()
    status = page.locator("#claims-status-line")
    expect(status).to_have_text("50 claims so far; more below.")
    page.get_by_label("Creator", exact=True).fill("someone-else")  # typed, not applied
    page.get_by_role("button", name="Show more claims").dblclick()
    expect(status).to_have_text(f"{FILED} claims.")
    ids = page.locator("article.claim").evaluate_all("cards => cards.map((c) => c.id)")
    assert len(ids) == len(set(ids)) == FILED
    expect(page.get_by_role("button", name="Show more claims")).to_have_count(0)
