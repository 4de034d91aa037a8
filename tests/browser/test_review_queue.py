"""Scenario 3: a compliance officer approves a reply held for review and sees it released;
when the customer opted out meanwhile, the approval's re-check withdraws it instead."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from tests.browser.compliance_seed import COMPLAINT, REPLY, api, held_reply
from tests.browser.conftest import Console, PageFactory
from tests.browser.support import assert_accessible, doc_shot


def _item(page: Any, proposal_id: int) -> Any:
    return page.locator(f"#proposal-{proposal_id}")


async def test_an_officer_approves_a_held_reply_and_sees_it_released(
    page_for: PageFactory, console: Console
) -> None:
    held = held_reply(console, handle="@sam@social.example")
    page = await page_for("compliance")
    await page.goto("/ui/review")
    item = _item(page, held)
    await item.wait_for()
    # the mention, its thread, the reply and the reasons, on the item
    assert COMPLAINT in await item.inner_text()
    assert REPLY in await item.inner_text()
    assert "ai_generated" in await item.locator(".reasons").inner_text()
    await item.get_by_text("The thread").click()  # a <details>: the earlier post
    assert "I ordered the Aero speaker" in await item.inner_text()
    assert "for review." in await page.locator("#waiting").inner_text()
    badge = page.locator("nav #review-badge")  # the navigation's count of what waits
    await badge.wait_for()
    assert int((await badge.inner_text()).split()[0]) >= 1
    await assert_accessible(page)
    await doc_shot(page, "review-queue")

    await item.get_by_label("Note for the record").fill("checked the tone")
    await item.get_by_role("button", name=f"Approve reply {held}").click()
    status = page.locator(f"#status-{held} [data-status]")
    await page.locator(f"#status-{held} [data-status='released']").wait_for(timeout=15_000)
    assert await status.inner_text() == "released to the channel"
    assert "carol" in await page.locator(f"#status-{held}").inner_text()
    assert f"Reply {held} approved" in await item.inner_text()
    await doc_shot(page, "review-released")
    assert api(console, "auditor", "GET", f"/v1/proposals/{held}")["status"] == "released"


async def test_the_approval_recheck_withdraws_a_reply_to_a_customer_who_opted_out(
    page_for: PageFactory, console: Console
) -> None:
    held = held_reply(console, handle="@tess@social.example")
    other = held_reply(console, handle="@tess@social.example")
    page = await page_for("compliance")
    await page.goto("/ui/review")
    await _item(page, held).wait_for()
    # meanwhile, another officer registers the customer's opt-out (in another spelling)
    api(
        console,
        "compliance2",
        "POST",
        "/v1/opt-outs",
        {"channel": "demo", "handle": "\uff20Tess\uff20Social.Example", "reason": "asked by phone"},
    )
    item = _item(page, held)
    await item.get_by_role("button", name=f"Approve reply {held}").click()
    await page.locator(f"#status-{held} [data-status='withdrawn']").wait_for()
    text = await item.inner_text()
    assert "opted_out" in text and "withdrawn, not approved" in text
    await assert_accessible(page)
    assert api(console, "auditor", "GET", f"/v1/proposals/{held}")["status"] == "withdrawn"

    # a fresh look says so before anyone clicks
    await page.goto("/ui/review")
    assert "opted out since" in await _item(page, other).inner_text()


async def test_nobody_approves_their_own_reply(page_for: PageFactory, console: Console) -> None:
    held = held_reply(console, handle="@uma@social.example", by="admin")
    page = await page_for("admin")
    await page.goto(f"/ui/review/{held}")
    item = _item(page, held)
    assert "another compliance officer must review it" in await item.inner_text()
    assert await item.get_by_role("button", name=f"Approve reply {held}").count() == 0


async def test_without_javascript_a_rejection_posts_and_reloads(
    browser: Any, console: Console
) -> None:
    held = held_reply(console, handle="@vic@social.example")
    context = await browser.new_context(base_url=console.url, java_script_enabled=False)
    try:
        await context.add_cookies(
            [
                {
                    "name": "egw_session",
                    "value": console.session_cookie("compliance2"),
                    "url": console.url,
                }
            ]
        )
        page = await context.new_page()
        await page.goto("/ui/review")
        item = _item(page, held)
        await item.get_by_label("Note for the record").fill("promises a refund we cannot give")
        await item.get_by_role("button", name=f"Reject reply {held}").click()
        await page.wait_for_url(f"**/ui/review/{held}")
        assert f"Reply {held} rejected." in await page.locator("#flash").inner_text()
        assert await page.locator(f"#status-{held} [data-status]").inner_text() == "rejected"
    finally:
        await context.close()


async def _last_page(page: Any) -> None:
    """Follow "Next replies waiting" to the queue's last page (new replies land there)."""
    await page.goto("/ui/review")
    while await page.locator("#review-list[data-last-page]").count() == 0:
        await page.get_by_role("link", name="Next replies waiting").click()
        await page.wait_for_load_state()


def _count(text: str) -> int:
    return int(text.split()[0])


async def _shows(locator: Any, count: int, *, timeout_ms: int = 5_000) -> None:
    """``locator`` (a badge or the waiting line) reads ``count`` within ``timeout_ms``."""
    await expect(locator).to_have_text(re.compile(rf"^\s*{count}\b"), timeout=timeout_ms)


async def test_the_queue_and_the_badge_update_live_without_a_reload(
    page_for: PageFactory, console: Console
) -> None:
    page = await page_for("compliance")
    await _last_page(page)
    other = await page_for("compliance")
    await other.goto("/ui/opt-outs")  # the badge is live on every page, not only the queue
    for p in (page, other):
        await p.wait_for_function("window.egwReviewLive === true", timeout=5_000)
        await p.evaluate("window.notReloaded = true")
    badge, other_badge = page.locator("nav #review-badge"), other.locator("nav #review-badge")
    before = _count(await badge.inner_text())

    held = held_reply(console, handle="@wes@social.example")
    item = _item(page, held)
    await item.wait_for(timeout=5_000)  # appended by the event stream (polling appends nothing)
    assert COMPLAINT in await item.inner_text() and REPLY in await item.inner_text()
    await _shows(badge, str(before + 1))
    await _shows(other_badge, str(before + 1))
    await _shows(page.locator("#waiting strong"), str(before + 1))
    await assert_accessible(page)

    # another officer approves it elsewhere: this page shows the outcome, the badges drop
    api(console, "compliance2", "POST", f"/v1/proposals/{held}/approve", {"note": "fine"})
    decided = f"#status-{held} [data-status]:not([data-status='pending_review'])"
    await page.locator(decided).wait_for(timeout=5_000)
    assert "reviewed by dave" in await page.locator(f"#status-{held}").inner_text()
    assert await item.get_by_role("button", name=f"Approve reply {held}").count() == 0
    await _shows(badge, str(before))
    await _shows(other_badge, str(before))
    for p in (page, other):
        assert await p.evaluate("window.notReloaded === true")
    await assert_accessible(page)


async def test_when_the_event_stream_fails_the_badge_falls_back_to_polling(
    page_for: PageFactory, console: Console
) -> None:
    page = await page_for("compliance")
    await page.route("**/ui/review/events", lambda route: route.fulfill(status=503, body=""))
    await page.goto("/ui/opt-outs")
    badge = page.locator("nav #review-badge")
    await badge.wait_for()
    before = _count(await badge.inner_text())
    assert await page.evaluate("window.egwReviewLive") is not True
    held_reply(console, handle="@xan@social.example")
    await _shows(badge, str(before + 1), timeout_ms=15_000)  # the 10 s poll
