"""Sources in the console (admins): the list with health, a source added with a secret that
no page shows again (not even masked), a bad one explained, a secret replaced, removal."""

from __future__ import annotations

import re

from tests.browser.compliance_seed import api
from tests.browser.conftest import Console, PageFactory
from tests.browser.support import assert_accessible, doc_shot

SECRET = "whsec-Browser-Test-0123456789-very-secret"
NEW_SECRET = "whsec-Rotated-9876543210"


def _no_secret_in(html: str) -> None:
    for secret in (SECRET, NEW_SECRET):
        assert secret not in html
        assert re.search(r"[•*●]{6,}", html) is None  # no masked value of any length


async def test_add_a_source_whose_secret_is_never_shown(
    page_for: PageFactory, console: Console
) -> None:
    page = await page_for("admin")
    await page.goto("/ui/sources")
    await page.get_by_role("button", name="Signed webhook").click()
    await page.wait_for_url("**/ui/sources/new?kind=webhook")
    await assert_accessible(page)

    # a bad name first: explained, the other values kept, the secret not drawn again
    await page.get_by_label("Name").fill("Shop Hook")
    await page.get_by_label("Webhook signing secret").fill(SECRET)
    await page.get_by_role("button", name="Add source").click()
    assert "The source was not added" in await page.get_by_role("alert").inner_text()
    assert await page.get_by_label("Name").input_value() == "Shop Hook"
    assert await page.get_by_label("Webhook signing secret").input_value() == ""
    _no_secret_in(await page.content())

    await page.get_by_label("Name").fill("shop-hook")
    await page.get_by_label("Webhook signing secret").fill(SECRET)
    await page.get_by_role("button", name="Add source").click()
    await page.wait_for_url("**/ui/sources")
    assert "Source shop-hook added" in await page.locator("#flash").inner_text()
    row = page.locator("tr", has=page.get_by_role("link", name="shop-hook"))
    assert "stored, encrypted" in await row.inner_text()
    assert "waiting for a first delivery" in await row.inner_text()
    _no_secret_in(await page.content())
    await assert_accessible(page)
    await doc_shot(page, "sources")

    await row.get_by_role("link", name="shop-hook").click()
    await page.wait_for_url("**/ui/sources/shop-hook")
    assert await page.get_by_label("New webhook signing secret").input_value() == ""
    _no_secret_in(await page.content())
    await page.get_by_label("New webhook signing secret").fill(NEW_SECRET)
    await page.get_by_label("Enabled").uncheck()
    await page.get_by_role("button", name="Save changes").click()
    assert "Source shop-hook saved." in await page.locator("#flash").inner_text()
    _no_secret_in(await page.content())
    await assert_accessible(page)
    await doc_shot(page, "source-edit")
    listed = api(console, "admin", "GET", "/v1/sources/shop-hook")
    assert listed["secret"] == "stored" and listed["enabled"] is False
    events = api(console, "auditor", "GET", "/v1/audit?subject=source:shop-hook")["items"]
    assert [e["kind"] for e in events] == ["source_added", "source_updated"]
    assert SECRET not in str(events) and NEW_SECRET not in str(events)

    await page.get_by_label("Remove shop-hook").check()
    await page.get_by_role("button", name="Remove source").click()
    await page.wait_for_url("**/ui/sources")
    assert "Source shop-hook removed" in await page.locator("#flash").inner_text()


async def test_only_admins_manage_sources(page_for: PageFactory) -> None:
    page = await page_for("compliance")
    answer = await page.goto("/ui/sources")
    assert answer is not None and answer.status == 403
