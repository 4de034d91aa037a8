"""Shared pieces of the fault tests: a proposal load from threads, and the integrity check.

The integrity check is the fault model's promise (docs/reliability.md), asked of the
database directly, not of the API that may itself be what broke:

- every proposal a client saw acknowledged (2xx) exists, with the outcome it was told;
- every proposal has its decision event in the audit chain, and every approved or released
  one has its outbox row: nothing is half-written;
- no decision event points at a proposal that does not exist;
- the chain verifies (``python -m gateway audit verify``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import msgspec

from tests.e2e.server import run_cli


class Answer(msgspec.Struct, frozen=True):
    """What one proposal request got back: an HTTP status, or the transport error's name."""

    mention_id: int
    status: int | None
    body: dict[str, Any] | None
    error: str | None


def mention_batch(prefix: str, count: int) -> dict[str, Any]:
    """``count`` complaints addressed to the brand, each from its own customer."""
    return {
        "mentions": [
            {
                "channel": "webhook",
                "external_id": f"{prefix}-{i}",
                "url": None,
                "author": {"handle": f"{prefix}-{i}@example.com", "display_name": "Kim"},
                "text": "@acme my parcel never arrived, what is going on?",
                "created_at": "2026-11-20T10:00:00Z",
            }
            for i in range(count)
        ]
    }


def ingest(base_url: str, token: str, prefix: str, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        response = client.post("/v1/mentions", json=mention_batch(prefix, count))
        response.raise_for_status()
        ids: list[int] = response.json()["ids"]
    return ids


def propose_all(
    base_url: str,
    token: str,
    mention_ids: list[int],
    *,
    threads: int,
    on_answer: Callable[[Answer], None] | None = None,
    timeout: float = 10,
) -> list[Answer]:
    """Propose one reply per mention from ``threads`` threads; every answer, in any order."""
    answers: list[Answer] = []
    lock = threading.Lock()
    queue = list(mention_ids)

    def work() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=timeout) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    mention_id = queue.pop()
                try:
                    response = client.post(
                        "/v1/proposals",
                        json={"mention_id": mention_id, "text": "Sorry, we are on it."},
                    )
                    body = _json(response)
                    answer = Answer(mention_id, response.status_code, body, None)
                except httpx.HTTPError as exc:
                    answer = Answer(mention_id, None, None, type(exc).__name__)
                with lock:
                    answers.append(answer)
                if on_answer is not None:
                    on_answer(answer)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert not any(w.is_alive() for w in workers), "proposal threads did not finish in 120 s"
    return answers


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def assert_intact(database_url: str, acknowledged: list[Answer]) -> None:
    """Nothing acknowledged is lost, nothing is half-written (see the module docstring)."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT p.id, p.mention_id, p.outcome, p.status, p.audit_seq,"
            "       o.id AS outbox_id, a.kind"
            "  FROM proposals p"
            "  LEFT JOIN outbox o ON o.proposal_id = p.id"
            "  LEFT JOIN audit_events a ON a.seq = p.audit_seq"
        )
        orphans = await conn.fetchval(
            "SELECT count(*) FROM audit_events a WHERE a.kind = 'proposal_decided'"
            " AND NOT EXISTS (SELECT 1 FROM proposals p WHERE p.audit_seq = a.seq)"
        )
    finally:
        await conn.close()
    by_id = {row["id"]: row for row in rows}
    for answer in acknowledged:
        assert answer.body is not None, answer
        row = by_id.get(answer.body["id"])
        assert row is not None, f"acknowledged proposal lost: {answer}"
        assert row["mention_id"] == answer.mention_id
        assert row["outcome"] == answer.body["decision"]["outcome"], (dict(row), answer)
        assert row["audit_seq"] == answer.body["audit_seq"], (dict(row), answer)
    for row in rows:
        assert row["kind"] == "proposal_decided", f"proposal without its decision: {dict(row)}"
        if row["outcome"] == "allow":
            assert row["outbox_id"] is not None, f"allowed proposal without outbox: {dict(row)}"
    assert orphans == 0, f"{orphans} decision events without their proposal"


def assert_chain_verifies(env: dict[str, str]) -> None:
    done = run_cli(env, "audit", "verify", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
