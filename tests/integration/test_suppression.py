"""Erasure never re-opens contact (issue 8, point 1), over HTTP against the real database,
the default Rego policy and the release worker: after ``POST /v1/subjects/erase`` every
mention of the customer stays closed (deny ``opted_out``, nothing released) and a new
mention from them, in any spelling, is refused with ``opted_out``; what is kept is a
suppression record that reveals nothing."""

from __future__ import annotations

import asyncpg
import pytest

from gateway.pipeline.release import ReleaseWorker
from gateway.runtime import Runtime
from gateway.store import proposals
from tests.integration.test_identity_api import Api, api, decision_codes, ingest, mention, opt_out

__all__ = ["api"]  # the fixture, shared

REPLY = "Sorry about the wait. We have escalated order 4411 with the courier today."


def worker(rt: Runtime) -> ReleaseWorker:
    return ReleaseWorker(
        rt.db.pool, rt.engine, rt.publishers, rt.settings, suppression_keys=rt.suppression_keys
    )


async def erase(api: Api, handle: str, *, channel: str = "demo") -> dict[str, object]:
    response = await api.post(
        "compliance", "/v1/subjects/erase", {"channel": channel, "handle": handle}
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def preview_codes(api: Api, mention_id: int) -> list[str]:
    response = await api.post(
        "agent", "/v1/proposals/preview", {"mention_id": mention_id, "text": REPLY}
    )
    assert response.status_code == 200, response.text
    return [r["code"] for r in response.json()["reasons"]]


async def dump(database_url: str, table: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        return "\n".join(str(dict(r)) for r in await conn.fetch(f"SELECT * FROM {table}"))
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("opted_out_first", "erase_as"),
    [
        (True, "@sam@social.example"),  # the reproduction, spelled alike throughout
        (True, "\uff20Sam\uff20social.example\u200b"),  # any spelling erases the same customer
        (False, "sam@social.example"),  # erasure alone suppresses too
    ],
)
async def test_erasure_closes_old_mentions_and_refuses_new_ones(
    api: Api, runtime: Runtime, database_url: str, opted_out_first: bool, erase_as: str
) -> None:
    [old, other] = await ingest(
        api,
        mention("@sam@social.example", channel="demo"),
        mention("@sam@social.example", channel="demo"),
    )
    # A reply allowed before the erasure and still waiting in the outbox.
    async with api.client("agent") as client:
        queued = (
            await client.post("/v1/proposals", json={"mention_id": other, "text": REPLY})
        ).json()
    assert queued["status"] == "approved", queued
    if opted_out_first:
        assert (await opt_out(api, "@sam@social.example", channel="demo")).status_code == 201

    erased = await erase(api, erase_as)

    outcome, codes = await decision_codes(api, old)
    assert outcome == "deny" and "opted_out" in codes, codes
    assert "opted_out" in await preview_codes(api, old)
    assert erased["suppression"] == ("opt_out" if opted_out_first else "erasure")
    kept = (await dump(database_url, "suppressions")).lower()
    assert kept.count("'channel': 'demo'") == 1 and "sam" not in kept
    for table in ("mentions", "proposals", "opt_outs", "subjects"):
        assert "sam" not in (await dump(database_url, table)).lower(), table
    while await worker(runtime).release_one():
        pass
    async with runtime.db.pool.acquire() as conn:
        assert (await proposals.get_proposal(conn, queued["id"])).status == "withdrawn"
    assert runtime.publishers["demo"].sent() == []  # type: ignore[attr-defined]

    for spelling in ("sam@social.example", "@SAM@social.example\u200b"):
        [new] = await ingest(api, mention(spelling, channel="demo"))
        outcome, codes = await decision_codes(api, new)
        assert outcome == "deny" and "opted_out" in codes, (spelling, codes)
    # Another customer is untouched.
    [fine] = await ingest(api, mention("@tam@social.example", channel="demo"))
    assert (await decision_codes(api, fine))[0] == "allow"


async def test_erasing_twice_keeps_one_suppression(api: Api, database_url: str) -> None:
    await ingest(api, mention("@kim@social.example", channel="demo"))
    await erase(api, "kim@social.example")
    [again] = await ingest(api, mention("@kim@social.example", channel="demo"))
    await erase(api, "@kim@social.example")
    assert "opted_out" in (await decision_codes(api, again))[1]
    assert (await dump(database_url, "suppressions")).count("'channel': 'demo'") == 1
