"""Helpers for the agent pages' browser tests: mentions and opt-outs through the API."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.browser.conftest import Console

_n = itertools.count(1)


def api(console: Console, who: str) -> httpx.Client:
    token = console.people[who].token
    return httpx.Client(
        base_url=console.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def ingest(console: Console, text: str, *, handle: str, **extra: Any) -> int:
    """One demo-channel mention (admin, as a connector would); its id."""
    n = f"{next(_n)}-{uuid.uuid4().hex[:8]}"
    body = {
        "channel": "demo",
        "external_id": f"browser-{n}",
        "url": f"https://demo.example/browser/{n}",
        "author": {"handle": handle, "display_name": handle.split("@")[1].capitalize()},
        "text": text,
        "created_at": datetime.now(UTC).isoformat(),
        **extra,
    }
    with api(console, "admin") as client:
        r = client.post("/v1/mentions", json={"mentions": [body]})
    assert r.status_code == 200, r.text
    ids: list[int] = r.json()["ids"]
    return ids[0]


def opt_out(console: Console, handle: str) -> None:
    with api(console, "compliance") as client:
        r = client.post(
            "/v1/opt-outs", json={"channel": "demo", "handle": handle, "reason": "asked by DM"}
        )
    assert r.status_code == 201, r.text


def claim(console: Console, who: str, mention_id: int) -> None:
    with api(console, who) as client:
        assert client.post(f"/v1/mentions/{mention_id}/claim").status_code == 200
