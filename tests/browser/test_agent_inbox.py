"""The agents' inbox in a real browser: filters with counts, claim holders shown, and the
pages working without JavaScript (forms post, pages come back whole)."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from tests.browser.agent_support import claim, ingest
from tests.browser.conftest import Console, PageFactory
from tests.browser.support import assert_accessible


async def test_inbox_filters_show_counts_and_who_holds_what(
    page_for: PageFactory, console: Console
) -> None:
    held = ingest(console, "@acme my blender #8812 arrived broken", handle="@ines@social.example")
    ingest(
        console, "@acme the new blender #8813 is wonderful, love it", handle="@jo@social.example"
    )
    claim(console, "agent2", held)
    page = await page_for("agent")
    await page.goto("/ui/agent/inbox")
    claimed = page.get_by_label("Claimed")
    await expect(claimed.locator("option", has_text="By others")).to_have_text("By others (1)")

    await claimed.select_option("others")
    await expect(page.get_by_role("row").filter(has_text="#8812")).to_contain_text("bob")
    await expect(page.get_by_role("row").filter(has_text="#8813")).to_have_count(0)
    await expect(page.locator("#inbox-total")).to_contain_text("1 mention match")
    assert "claim=others" in page.url  # the filters are in the address: shareable, reloadable
    # The other facets' counts now count only what others hold.
    intent = page.get_by_label("Intent")
    await expect(intent.locator("option", has_text="Praise")).to_have_text("Praise (0)")

    await claimed.select_option("")
    await expect(page).not_to_have_url(re.compile("claim=others"))  # that answer is in
    await intent.select_option("praise")
    await expect(page.get_by_role("row").filter(has_text="#8813")).to_contain_text("free")
    await expect(page.get_by_role("row").filter(has_text="#8812")).to_have_count(0)
    await page.get_by_label("Sentiment", exact=True).select_option("negative")
    await expect(page.get_by_text("No mentions match these filters.")).to_be_visible()
    await assert_accessible(page, context="inbox, nothing matching")


async def test_inbox_and_verdict_work_without_javascript(browser: Any, console: Console) -> None:
    mention_id = ingest(
        console,
        "@acme my kettle order #9901 has not arrived after three weeks, terrible",
        handle="@kai@social.example",
    )
    context = await browser.new_context(base_url=console.url, java_script_enabled=False)
    try:
        await context.add_cookies(
            [
                {
                    "name": "egw_session",
                    "value": console.session_cookie("agent"),
                    "domain": "127.0.0.1",
                    "path": "/ui",
                }
            ]
        )
        page = await context.new_page()
        await page.goto("/ui/agent/inbox")
        await page.get_by_label("Intent").select_option("complaint")
        await page.get_by_role("button", name="Apply filters").click()
        await page.wait_for_url("**intent=complaint**")
        await page.get_by_role("row").filter(has_text="#9901").get_by_role("link").click()
        await page.wait_for_url(f"**/ui/agent/mentions/{mention_id}")
        await page.get_by_label("Your reply").fill("Calm down, we will send a new kettle.")
        await page.get_by_role("button", name="Check with the policy").click()
        verdict = page.locator("#verdict")
        await expect(verdict).to_contain_text("Would be refused")
        await expect(verdict.locator("mark", has_text="Calm down").first).to_be_visible()
        # The draft is kept in the box for the next try.
        await expect(page.get_by_label("Your reply")).to_have_value(
            "Calm down, we will send a new kettle."
        )
    finally:
        await context.close()
