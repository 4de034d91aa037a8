"""Browser scenario 4 (issue 12): a compliance officer raises the 7-day cap in the form,
runs the tests, sees the impact, and a second officer activates it.

The history the impact replays is made by the real pipeline: one customer got six replies
over the past week (each reply made through the API, then dated back a day at a time in
the database, which is the one thing a test cannot wait for), so the next replies to them
are denied by the 7-day cap of 6. Raising the cap to 9 turns those denials into allows.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from itertools import count
from typing import Any

import asyncpg
import httpx
from playwright.async_api import expect

from tests.browser.conftest import Console, PageFactory
from tests.browser.support import assert_accessible, doc_shot

CUSTOMER = "@weekly@social.example"
COMPLAINT = "@acme my order #{n} still hasn't arrived after three weeks, this is terrible"
REPLY = "Sorry about the wait. We have escalated order {n} with the courier today."
_n = count(4100)


def _mention(n: int) -> dict[str, Any]:
    return {
        "channel": "demo",
        "external_id": f"policy-scenario-{n}",
        "url": f"https://demo.example/policy-scenario/{n}",
        "author": {"handle": CUSTOMER, "display_name": "Wendy"},
        "text": COMPLAINT.format(n=n),
        "created_at": datetime.now(UTC).isoformat(),
    }


async def _reply(console: Console, client: httpx.AsyncClient) -> dict[str, Any]:
    n = next(_n)
    admin = {"Authorization": f"Bearer {console.people['admin'].token}"}
    done = await client.post("/v1/mentions", json={"mentions": [_mention(n)]}, headers=admin)
    assert done.status_code == 200, done.text
    [mention_id] = done.json()["ids"]
    agent = {"Authorization": f"Bearer {console.people['agent'].token}"}
    made = await client.post(
        "/v1/proposals",
        json={"mention_id": mention_id, "text": REPLY.format(n=n)},
        headers=agent,
    )
    assert made.status_code in (200, 201), made.text
    body: dict[str, Any] = made.json()
    return body


async def _a_week_of_replies(console: Console) -> list[int]:
    """Six allowed replies to one customer, one per past day; then two the 7-day cap
    denies. Returns the ids of the denied ones."""
    db = await asyncpg.connect(console.database_url)
    try:
        async with httpx.AsyncClient(base_url=console.url, timeout=30) as client:
            for days_ago in range(6, 0, -1):
                allowed = await _reply(console, client)
                assert allowed["decision"]["outcome"] == "allow", allowed
                await db.execute(
                    "UPDATE proposals SET approved_at = now() - make_interval(days => $2),"
                    " created_at = now() - make_interval(days => $2) WHERE id = $1",
                    allowed["id"],
                    days_ago,
                )
            denied = [await _reply(console, client) for _ in range(2)]
    finally:
        await db.close()
    for proposal in denied:
        assert proposal["decision"]["outcome"] == "deny", proposal
        assert [r["code"] for r in proposal["decision"]["reasons"]] == ["frequency_cap"], proposal
    return [p["id"] for p in denied]


async def test_raise_the_7_day_cap_test_impact_and_a_second_officer_activates(
    page_for: PageFactory, console: Console
) -> None:
    denied = await _a_week_of_replies(console)

    # Carol, compliance officer: the Policies page, then the tunables form.
    page = await page_for("compliance")
    await page.goto("/ui/policies")
    await assert_accessible(page, context="policies overview")
    await doc_shot(page, "policies")
    await page.get_by_role("button", name="Change tunables").click()
    await page.wait_for_url("**/tunables")
    cap = page.get_by_label("Replies per customer in 7 days")
    assert await cap.input_value() == "6"
    await assert_accessible(page, context="tunables form")
    await cap.fill("9")
    await page.get_by_label("What changed and why").fill("Allow nine replies a week")
    await doc_shot(page, "policies-tunables")
    await page.get_by_role("button", name="Save as a new draft").click()
    await page.wait_for_url(re.compile(r".*/ui/policies/sha256:[0-9a-f]+$"))
    assert "its tests pass" in await page.locator("#flash").inner_text()
    draft = page.url.rsplit("/", 1)[-1]
    assert "Allow nine replies a week" in await page.locator("main").inner_text()
    await assert_accessible(page, context="draft page")

    # Run the tests: pass/fail per test and coverage per file.
    await page.get_by_role("button", name="Run the tests").click()
    await page.wait_for_url("**/tests")
    summary = await page.locator("#test-summary").inner_text()
    assert re.search(r"[1-9][0-9]* passed, 0 failed", summary), summary
    assert await page.get_by_role("link", name="engagement/frequency.rego").count() == 1
    await assert_accessible(page, context="test results")
    await doc_shot(page, "policies-tests")
    await page.get_by_role("link", name="engagement/frequency.rego").click()
    await page.wait_for_url(re.compile(r".*/coverage\?file=.*"))
    assert await page.locator("tr.line-covered").count() > 0
    await assert_accessible(page, context="coverage")

    # The impact: a table and a chart; the two denials become allows, with examples.
    await page.goto(f"/ui/policies/{draft}/impact")
    await page.get_by_role("button", name="Run the impact analysis").click()
    await page.locator("#impact-summary").wait_for()
    summary = await page.locator("#impact-summary").inner_text()
    assert re.search(r"\b2 of \d+ past decisions would change", summary), summary
    row = page.locator("table.impact-table tbody tr")
    assert await row.count() == 1
    assert "deny" in await row.locator("td").nth(0).inner_text()
    assert "allow" in await row.locator("td").nth(1).inner_text()
    assert await row.locator("td").nth(2).inner_text() == "2"
    await page.locator("#impact-chart[data-rendered='true']").wait_for()
    await assert_accessible(page, context="impact")
    await doc_shot(page, "policies-impact")
    await page.get_by_role("link", name=f"#{denied[-1]}").first.click()
    await page.wait_for_url(f"**/impact/{denied[-1]}")
    table = await page.locator("main table").inner_text()
    assert "Recorded at the time\t" in table or "Recorded at the time" in table
    rows = page.locator("main table tbody tr")
    assert "deny" in await rows.nth(0).inner_text()
    assert "allow" in await rows.nth(2).inner_text()
    await assert_accessible(page, context="impact example")

    # The diff against the active revision shows the cap.
    await page.goto(f"/ui/policies/{draft}/diff")
    diff = await page.locator("pre.diff").inner_text()
    assert '-    "per_customer_7d": 6' in diff and '+    "per_customer_7d": 9' in diff
    await assert_accessible(page, context="diff")

    # Carol asks for activation; she cannot confirm it herself.
    await page.goto(f"/ui/policies/{draft}")
    await page.get_by_role("button", name="Request activation").click()
    # The form posts and comes back to a page already loaded: wait for the answer's flash
    # (load states of the page before it would pass at once).
    await expect(page.locator("#flash")).to_contain_text("Activation requested", timeout=30_000)
    await page.goto("/ui/policies")
    assert await page.get_by_role("button", name=re.compile("^Confirm")).count() == 0

    # Dave, a second compliance officer, sees the request and confirms it.
    second = await page_for("compliance2")
    await second.goto("/ui/policies")
    await assert_accessible(second, context="policies with a pending request")
    await doc_shot(second, "policies-request")
    await second.get_by_role("button", name=re.compile(r"^Confirm activate #\d+")).click()
    await expect(second.locator("#flash")).to_contain_text("confirmed", timeout=30_000)
    assert draft[:19] in await second.locator("#active-h + dl").inner_text()

    async with httpx.AsyncClient(base_url=console.url, timeout=10) as client:
        state = await client.get(
            "/v1/policies/state",
            headers={"Authorization": f"Bearer {console.people['auditor'].token}"},
        )
    assert state.json()["active_revision"] == draft
    assert state.json()["activated_by"] == console.people["compliance2"].name
