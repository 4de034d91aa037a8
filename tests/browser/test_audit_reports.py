"""The auditors' report charts, with and without JavaScript."""

from __future__ import annotations

from typing import Any

from tests.browser.audit_seed import seed_decisions
from tests.browser.conftest import Console, PageFactory
from tests.browser.support import assert_accessible, doc_shot

CHARTS = ("outcomes", "reasons", "overrides", "released")


async def test_reports_are_charts_with_their_figures(
    page_for: PageFactory, console: Console
) -> None:
    seed_decisions(console, tag="reports")
    page = await page_for("auditor")
    await page.goto("/ui/audit/reports")
    for name in ("outcomes", "reasons"):
        canvas = page.locator(f"#chart-{name}")
        await canvas.wait_for(state="visible")  # drawn by Chart.js
    table = await page.locator("#table-outcomes").inner_text()
    assert "allow" in table and "deny" in table and "review" in table
    assert "ai_generated" in await page.locator("#table-reasons").inner_text()
    await assert_accessible(page, context="the reports")
    await doc_shot(page, "audit-reports")

    response = await page.goto("/ui/audit/reports?from=2026-02-01&to=2026-01-01")
    assert response is not None and response.status == 400
    assert "must be before until" in await page.get_by_role("alert").inner_text()


async def test_without_javascript_the_charts_are_tables(browser: Any, console: Console) -> None:
    seed_decisions(console, tag="nojs")
    context = await browser.new_context(base_url=console.url, java_script_enabled=False)
    try:
        await context.add_cookies(
            [
                {
                    "name": "egw_session",
                    "value": console.session_cookie("auditor"),
                    "domain": "127.0.0.1",
                    "path": "/ui",
                }
            ]
        )
        page = await context.new_page()
        await page.goto("/ui/audit/reports")
        assert not await page.locator("#chart-outcomes").is_visible()
        assert "deny" in await page.locator("#table-outcomes").inner_text()
        await page.goto("/ui/audit?outcome=deny")
        assert await page.locator("#audit-events tbody tr").count() >= 1
    finally:
        await context.close()
