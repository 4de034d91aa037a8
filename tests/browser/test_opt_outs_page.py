"""Opt-outs in the console: added in an odd spelling of a handle (stored as the customer's
canonical identity), found again in another spelling, lifted with a reason, with history."""

from __future__ import annotations

from typing import Any

from tests.browser.compliance_seed import api
from tests.browser.conftest import Console, PageFactory
from tests.browser.support import assert_accessible, doc_shot

ODD = "\uff20Zoe\uff20Social.Example\u200b"  # full-width at signs, a zero-width space


async def test_add_in_an_odd_spelling_find_it_and_lift_it_with_a_reason(
    page_for: PageFactory, console: Console
) -> None:
    page = await page_for("compliance")
    await page.goto("/ui/opt-outs")
    await assert_accessible(page)
    add = page.locator("form", has=page.get_by_role("button", name="Add opt-out"))
    await add.get_by_label("Channel").fill("mastodon")
    await add.get_by_label("Handle").fill(ODD)
    await add.get_by_label("Reason").fill("asked by phone")
    await add.get_by_role("button", name="Add opt-out").click()
    await page.wait_for_url("**/ui/opt-outs/*")
    flash = await page.locator("#flash").inner_text()
    assert "zoe@social.example on mastodon" in flash and "you typed" in flash
    assert "Opted out now" in await page.locator("main").inner_text()

    # the API agrees: one opt-out, canonical
    found = api(console, "auditor", "GET", "/v1/opt-outs?channel=mastodon&handle=zoe")
    assert [o["handle"] for o in found["items"]] == ["zoe@social.example"]

    # search in yet another spelling (the instance's fully qualified name)
    await page.goto("/ui/opt-outs")
    search = page.get_by_role("search")
    await search.get_by_label("Channel").fill("mastodon")
    await search.get_by_label("Handle, or part of one").fill("@ZOE@social.example.")
    await search.get_by_role("button", name="Search").click()
    rows = page.locator("table tbody tr")
    assert await rows.count() == 1
    assert "zoe@social.example" in await rows.first.inner_text()
    await doc_shot(page, "opt-outs")
    await rows.first.get_by_role("link").click()

    # a blank reason is refused with what to do; then lifted with one
    await page.get_by_label("Why is it lifted?").fill("   ")
    await page.get_by_role("button", name="Lift opt-out").click()
    assert "say why the opt-out is lifted" in await page.get_by_role("alert").inner_text()
    await page.get_by_label("Why is it lifted?").fill("Zoe wrote to us again and asked for help")
    await page.get_by_role("button", name="Lift opt-out").click()
    await page.wait_for_load_state()
    assert "Opt-out lifted for zoe@social.example" in await page.locator("#flash").inner_text()
    history = await page.locator("ol.history").inner_text()
    assert "Lifted" in history and "Zoe wrote to us again" in history and "carol" in history
    assert "Not opted out now" in await page.locator("main").inner_text()
    await assert_accessible(page)
    await doc_shot(page, "opt-out-history")


async def test_a_handle_that_cannot_be_an_identity_is_explained(
    browser: Any, console: Console
) -> None:
    """Without JavaScript too: the form posts, the error says what is wrong, values stay."""
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
        await page.goto("/ui/opt-outs")
        add = page.locator("form", has=page.get_by_role("button", name="Add opt-out"))
        await add.get_by_label("Channel").fill("mastodon")
        await add.get_by_label("Handle").fill("zoe")  # no instance on a channel without one
        await add.get_by_role("button", name="Add opt-out").click()
        alert = await page.get_by_role("alert").inner_text()
        assert "The opt-out was not added" in alert and "user@instance" in alert
        assert await add.get_by_label("Handle").input_value() == "zoe"
    finally:
        await context.close()
