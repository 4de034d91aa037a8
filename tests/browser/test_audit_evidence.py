"""Scenario 5: an auditor filters the log, verifies it, and downloads an evidence bundle
that the offline verifier accepts. Also each event's details, replay, inclusion proof."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

from tests.browser.audit_seed import chain_events, seed, seed_decisions
from tests.browser.conftest import Console, PageFactory
from tests.browser.support import REPO, assert_accessible, doc_shot


def _offline_verify(bundle: Path) -> subprocess.CompletedProcess[str]:
    """What ``./dev verify BUNDLE`` runs, with the project's Python."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "verify", "--bundle", str(bundle)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_an_auditor_filters_verifies_and_takes_evidence_away(
    page_for: PageFactory, console: Console, tmp_path: Path
) -> None:
    seqs = seed_decisions(console, tag="scenario5")
    page = await page_for("auditor")
    await page.goto("/ui/audit")
    assert await page.get_by_role("heading", name="Not verified yet").is_visible()

    # Filter: the denied decisions.
    await page.get_by_label("Kind").select_option("proposal_decided")
    await page.get_by_label("Outcome").select_option("deny")
    await page.get_by_role("button", name="Apply filters").click()
    await page.wait_for_url("**/ui/audit?*outcome=deny*")
    rows = page.locator("#audit-events tbody tr")
    assert await rows.count() == 1
    assert await rows.first.locator("td").nth(5).inner_text() == "deny"
    assert "blocked_term" in await rows.first.inner_text()
    await assert_accessible(page, context="the filtered audit log")
    await doc_shot(page, "audit-log")

    # Verify: the badge says so, with when and by whom; the chain did not move.
    before = chain_events(console)
    await page.get_by_role("button", name="Verify now").click()
    await page.wait_for_url("**/ui/audit?*outcome=deny*")  # the filter is kept
    badge = page.locator("#verification")
    assert "Chain and checkpoints verified" in await badge.inner_text()
    assert "Last verified" in await badge.inner_text() and "by erin" in await badge.inner_text()
    assert "Verified:" in await page.locator("#flash").inner_text()
    assert chain_events(console) == before  # verifying changed nothing audited

    # Evidence: one button; the download verifies offline and names the filtered event.
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download evidence bundle").click()
    download = await waiting.value
    assert download.suggested_filename.startswith("audit-evidence-")
    bundle = tmp_path / download.suggested_filename
    await download.save_as(bundle)
    with tarfile.open(bundle, "r:gz") as tar:
        assert "audit-evidence/selection.json" in tar.getnames()
    done = _offline_verify(bundle)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: ")
    assert "selection: 1 event(s) picked by the bundle's filter, each in the verified chain" in (
        done.stdout
    )

    # The event: input, result, reasons, revision, hashes; replay; inclusion proof.
    await rows.first.get_by_role("link").click()
    await page.wait_for_url(f"**/ui/audit/events/{seqs['deny']}")
    text = await page.locator("main").inner_text()
    for shown in ("Result: deny", "blocked_term", "Input (what the policy saw)", "sha256:"):
        assert shown in text, shown
    assert len(await page.locator("#event-hash").inner_text()) == 64
    await assert_accessible(page, context="an audit event")
    await doc_shot(page, "audit-event")

    await page.get_by_role("button", name="Replay against its revision").click()
    verdict = page.locator("#replay-verdict")
    assert "The same decision" in await verdict.inner_text()
    await assert_accessible(page, context="a replay")
    await doc_shot(page, "audit-replay")

    await page.go_back()
    await page.get_by_role("button", name="Inclusion proof").click()
    proof = page.locator("#proof-verdict")  # the bundle signed a checkpoint covering it
    assert f"Event {seqs['deny']} is in the tree" in await proof.inner_text()
    await assert_accessible(page, context="an inclusion proof")
    await doc_shot(page, "audit-proof")


async def test_each_filter_narrows_the_log_and_bad_ones_say_why(
    page_for: PageFactory, console: Console
) -> None:
    seeded = seed(console, tag="filters")
    seqs = {k: v for k, v in seeded.items() if isinstance(v, int)}
    page = await page_for("compliance")

    async def shown(query: str) -> list[int]:
        await page.goto(f"/ui/audit?{query}")
        cells = page.locator("#audit-events tbody tr td:first-child")
        return [int(t) for t in await cells.all_inner_texts()]

    review = await shown("reason=ai_generated")
    assert seqs["review"] in review and seqs["deny"] not in review
    assert review == sorted(review, reverse=True)  # newest first
    assert seqs["allow"] in await shown("outcome=allow")
    assert seqs["deny"] not in await shown("outcome=allow")
    customer = "customer=@Filters-deny@social.example&kind=proposal_decided"  # any spelling
    assert await shown(customer) == [seqs["deny"]]
    assert seqs["allow"] in await shown("actor=alice&channel=demo")
    assert await shown("channel=mastodon&kind=proposal_decided") == []
    assert await shown("actor=nobody-at-all") == []
    assert await shown("since=2099-01-01T00:00") == []
    assert "No event matches these filters." in await page.locator("main").inner_text()
    by_revision = await shown(f"revision={seeded['revision']}&kind=proposal_decided")
    assert set(seqs.values()) <= set(by_revision)
    assert await shown("revision=sha256:unknown") == []
    await page.goto("/ui/audit")  # the form itself: the outcome menu and a time filter
    await page.get_by_label("Outcome").select_option("review")
    await page.get_by_label("From (UTC)").fill("2026-01-01T00:00")
    await page.get_by_role("button", name="Apply filters").click()
    await page.wait_for_url("**/ui/audit?*outcome=review*")
    cells = page.locator("#audit-events tbody tr td:first-child")
    assert seqs["review"] in [int(t) for t in await cells.all_inner_texts()]

    # A filter that makes no sense: the page says which and why, with a 400.
    response = await page.goto("/ui/audit?since=2026-01-02T00:00&until=2026-01-01T00:00")
    assert response is not None and response.status == 400
    alert = page.get_by_role("alert")
    assert "must be before until" in await alert.inner_text()
    response = await page.goto("/ui/audit?since=yesterday")
    assert response is not None and response.status == 400
    assert "is not a date and time" in await page.get_by_role("alert").inner_text()
    await assert_accessible(page, context="the audit log with an error")
