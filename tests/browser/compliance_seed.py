"""Seeding for the compliance pages' browser tests, through the API as each person would
(admin ingests, an agent proposes, an officer opts a customer out): never the database."""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx

from tests.browser.conftest import Console

COMPLAINT = "@acme my order #4411 still has not arrived after three weeks, this is terrible"
REPLY = "Sorry about the wait. We have escalated order 4411 with the courier today."
_n = itertools.count(1)


def api(console: Console, who: str, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {console.people[who].token}"}
    with httpx.Client(base_url=console.url, headers=headers, timeout=15) as client:
        answer = client.request(method, path, json=body)
    assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json()


def mention(console: Console, *, handle: str, text: str = COMPLAINT, thread: str = "") -> int:
    n = next(_n)
    item: dict[str, Any] = {
        "channel": "demo",
        "external_id": f"browser-review-{time.time_ns()}-{n}",
        "author": {"handle": handle, "display_name": handle.split("@")[1].title()},
        "text": text,
        "created_at": "2026-12-04T09:30:00Z",
        "addressed": True,
    }
    if thread:
        item["thread_id"] = thread
    ids: list[int] = api(console, "admin", "POST", "/v1/mentions", {"mentions": [item]})["ids"]
    return ids[0]


def held_reply(console: Console, *, handle: str, by: str = "agent", text: str = REPLY) -> int:
    """A reply the policy holds for review (drafted with AI); its proposal id."""
    thread = f"thread-{time.time_ns()}"
    mention(
        console, handle=handle, text="@acme I ordered the Aero speaker a month ago", thread=thread
    )
    mention_id = mention(console, handle=handle, thread=thread)
    proposal = api(
        console,
        by,
        "POST",
        "/v1/proposals",
        {"mention_id": mention_id, "text": text, "ai_generated": True},
    )
    assert proposal["status"] == "pending_review", proposal
    return int(proposal["id"])
