"""Browser scenarios 1 and 2 of issue 12: an agent answers a complaint and sees it released;
a reply to an opted-out customer is refused, with the reason shown while typing."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import expect

from tests.browser.agent_support import ingest, opt_out
from tests.browser.conftest import Console, PageFactory
from tests.browser.support import assert_accessible, doc_shot

COMPLAINT = "@acme my order #5521 still has not arrived after three weeks, this is terrible"
GOOD_REPLY = "Sorry about the wait, Noor. We have escalated order 5521 with the courier today."


async def type_reply(page: Any, text: str) -> None:
    box = page.get_by_label("Your reply")
    await box.fill("")
    await box.press_sequentially(text, delay=5)


async def test_an_agent_answers_a_complaint_and_sees_it_released(
    page_for: PageFactory, console: Console
) -> None:
    mention_id = ingest(console, COMPLAINT, handle="@noor@social.example")
    page = await page_for("agent")
    await page.goto("/ui/agent/inbox")
    await page.get_by_label("Intent").select_option("complaint")
    row = page.get_by_role("row").filter(has_text="#5521")
    await expect(row).to_have_count(1)
    await assert_accessible(page, context="inbox")
    await doc_shot(page, "agent-inbox")

    await row.get_by_role("link").click()
    await page.wait_for_url(f"**/ui/agent/mentions/{mention_id}")
    await page.get_by_role("button", name="Claim").click()
    await expect(page.get_by_text("You hold this mention")).to_be_visible()

    # A rude draft first: refused, the words that triggered it marked while typing.
    await type_reply(page, "Calm down, it is not our problem.")
    verdict = page.locator("#verdict")
    await expect(verdict).to_contain_text("Would be refused")
    await expect(verdict).to_contain_text("Blocked wording")
    await expect(verdict.locator("mark", has_text="Calm down").first).to_be_visible()
    await expect(verdict.locator("mark", has_text="not our problem").first).to_be_visible()
    await assert_accessible(page, context="mention page with a verdict")
    await doc_shot(page, "agent-mention-verdict")

    await type_reply(page, GOOD_REPLY)
    await expect(verdict).to_contain_text("Would be sent")
    await expect(verdict).to_contain_text("Nothing in the policy stands against this reply")
    await page.get_by_role("button", name="Submit reply").click()
    await page.wait_for_url("**/ui/agent/proposals/*")
    status = page.locator("#proposal-status")
    await expect(status).to_contain_text("Sent to the channel", timeout=20_000)
    await expect(status).to_contain_text("Released: done")
    await assert_accessible(page, context="proposal page")
    await doc_shot(page, "agent-proposal-released")

    # The live status is a server-sent event stream; a final status is one event, then the end.
    proposal_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    cookies = {"egw_session": console.session_cookie("agent")}
    async with httpx.AsyncClient(base_url=console.url, cookies=cookies, timeout=10) as client:
        events = await client.get(f"/ui/agent/proposals/{proposal_id}/events")
    assert events.headers["content-type"].startswith("text/event-stream")
    assert events.text.startswith("event: status") and "Sent to the channel" in events.text
    async with httpx.AsyncClient(base_url=console.url, timeout=10) as client:  # signed out
        anon = await client.get(f"/ui/agent/proposals/{proposal_id}/events")
    assert anon.status_code in (303, 401) and "event:" not in anon.text

    await page.get_by_role("link", name="My proposals").first.click()
    mine = page.get_by_role("row").filter(has_text="escalated order 5521")
    await expect(mine).to_contain_text("Sent to the channel")
    await assert_accessible(page, context="my proposals")
    await doc_shot(page, "agent-proposals")


async def test_a_reply_to_an_opted_out_customer_is_refused_while_typing(
    page_for: PageFactory, console: Console
) -> None:
    mention_id = ingest(
        console, "@acme the charger I bought broke after two days", handle="@omar@social.example"
    )
    opt_out(console, "@Omar@social.example")
    page = await page_for("agent")
    await page.goto("/ui/agent/inbox")
    row = page.get_by_role("row").filter(has_text="charger I bought broke")
    await expect(row).to_contain_text("Opted out: do not write")

    await page.goto(f"/ui/agent/mentions/{mention_id}")
    await expect(page.get_by_role("alert")).to_contain_text("Do not write to this customer")
    await type_reply(page, "So sorry to hear that, Omar. We will replace the charger.")
    verdict = page.locator("#verdict")
    # Nothing was submitted: the refusal and its reason show while typing.
    await expect(verdict).to_contain_text("Would be refused")
    await expect(verdict).to_contain_text("The customer opted out of contact")
    await expect(verdict).to_contain_text("has opted out of contact on this channel")
    assert "/proposals/" not in page.url
    await assert_accessible(page, context="opted-out mention")
    await doc_shot(page, "agent-opted-out")

    await page.get_by_role("button", name="Claim").click()
    await page.get_by_label("Your reply").fill("So sorry to hear that, Omar.")
    await page.get_by_role("button", name="Submit reply").click()
    await page.wait_for_url("**/ui/agent/proposals/*")
    await expect(page.locator("#proposal-status")).to_contain_text("Refused by the policy")
    await expect(page.locator("#proposal-status")).to_contain_text("opted out")


async def test_an_agent_disagrees_with_the_classifier_and_the_reply_goes_to_review(
    page_for: PageFactory, console: Console
) -> None:
    mention_id = ingest(console, COMPLAINT.replace("5521", "7731"), handle="@pia@social.example")
    page = await page_for("agent")
    await page.goto(f"/ui/agent/mentions/{mention_id}")
    await page.get_by_label("The intent really is").select_option("question")
    await page.get_by_label("Why (optional)").fill("she asks where the parcel is")
    await page.get_by_role("button", name="Disagree with the classifier").click()
    await expect(page.get_by_text("alice says this is question")).to_be_visible()
    await assert_accessible(page, context="mention page with an intent flag")
    await type_reply(page, GOOD_REPLY.replace("5521", "7731"))
    verdict = page.locator("#verdict")
    await expect(verdict).to_contain_text("Would go to a compliance officer first")
    await expect(verdict).to_contain_text("An agent corrected the classifier")
