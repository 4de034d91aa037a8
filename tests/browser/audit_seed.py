"""Seeding a console's gateway over its API: mentions, and replies the policy allows,
denies and sends to review (the same calls an agent's client makes)."""

from __future__ import annotations

import itertools

import httpx

from tests.browser.conftest import Console

COMPLAINT = "@acme my order #4411 still hasn't arrived after three weeks, this is terrible"
GOOD = "Sorry about the wait. We have escalated order 4411 with the courier today."
DENIED = "Only an idiot would think that."
_n = itertools.count(1)


def _client(console: Console, who: str) -> httpx.Client:
    token = console.people[who].token
    return httpx.Client(
        base_url=console.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def seed_decisions(console: Console, *, tag: str) -> dict[str, int]:
    """Three decisions (allow, deny, review) for three customers; their audit seqs."""
    return {k: v for k, v in seed(console, tag=tag).items() if isinstance(v, int)}


def seed(console: Console, *, tag: str) -> dict[str, int | str]:
    """As ``seed_decisions``, plus ``revision``: the policy revision that decided them."""
    seqs: dict[str, int | str] = {}
    for outcome, text, ai in (
        ("allow", GOOD, False),
        ("deny", DENIED, False),
        ("review", GOOD, True),
    ):
        n = next(_n)
        mention = {
            "channel": "demo",
            "external_id": f"{tag}-{n}",
            "url": f"https://demo.example/{tag}/{n}",
            "author": {"handle": f"@{tag}-{outcome}@social.example", "display_name": "Sam"},
            "text": COMPLAINT,
            "created_at": "2026-12-04T10:00:00Z",
        }
        with _client(console, "admin") as admin:
            done = admin.post("/v1/mentions", json={"mentions": [mention]})
            assert done.status_code == 200, done.text
            [mention_id] = done.json()["ids"]
        with _client(console, "agent") as agent:
            made = agent.post(
                "/v1/proposals", json={"mention_id": mention_id, "text": text, "ai_generated": ai}
            )
            assert made.status_code == 201, made.text
            body = made.json()
        assert body["decision"]["outcome"] == outcome, body
        seqs[outcome] = body["audit_seq"]
        seqs["revision"] = body["decision"]["policy_revision"]
    return seqs


def chain_events(console: Console) -> int:
    with _client(console, "auditor") as auditor:
        events: int = auditor.get("/v1/audit/verify").json()["events"]
    return events
