"""The dashboard at the console's home, for every role, shaped by role."""

from __future__ import annotations

from tests.browser.audit_seed import seed_decisions
from tests.browser.conftest import Console, PageFactory
from tests.browser.support import assert_accessible, doc_shot


async def test_everyone_sees_the_dashboard_by_role(page_for: PageFactory, console: Console) -> None:
    seed_decisions(console, tag="dash")
    page = await page_for("compliance")
    await page.goto("/ui/dashboard")
    await page.locator("#chart-intents").wait_for(state="visible")
    assert "complaint" in await page.locator("#table-intents").inner_text()
    assert "negative" in await page.locator("#table-sentiments").inner_text()
    outcomes = await page.locator("#table-outcomes").inner_text()
    assert "allow" in outcomes and "deny" in outcomes and "review" in outcomes
    assert "blocked_term" in await page.locator("#table-top-deny").inner_text()
    assert "ai_generated" in await page.locator("#table-top-review").inner_text()
    assert int(await page.locator("#waiting-review").inner_text()) >= 1
    assert await page.locator("#median-release").inner_text()
    await assert_accessible(page, context="the dashboard")
    await doc_shot(page, "dashboard")

    agent = await page_for("agent")
    await agent.goto("/ui/dashboard")
    assert await agent.locator("#table-intents").is_visible()
    assert await agent.locator("#table-top-deny").count() == 0  # reasons: not an agent's
    assert "of them are your replies" in await agent.locator("main").inner_text()

    auditor = await page_for("auditor")
    await auditor.goto("/ui/dashboard")
    assert await auditor.locator("#table-top-deny").is_visible()


async def test_the_home_page_links_every_area_of_the_role(page_for: PageFactory) -> None:
    page = await page_for("auditor")
    await page.goto("/ui/home")
    areas = page.get_by_role("navigation", name="Areas")
    for label in ("Dashboard", "Audit log", "Reports"):
        assert await areas.get_by_role("link", name=label).is_visible()
    await assert_accessible(page, context="the home page")
    await doc_shot(page, "home")
