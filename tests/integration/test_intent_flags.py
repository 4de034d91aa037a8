"""Agents disagree with the classifier (issue 13), over HTTP against the real database and
the default Rego policy: a flag is audited, sends every reply on the mention to review
with ``intent_overridden`` (never straight out, never a deny for the intent), and the
flagged mentions export as evaluation-set candidates."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from gateway.domain.records import User
from gateway.http.auth import DEPENDENCIES
from gateway.http.controllers import ROUTES
from gateway.http.intent_flag_routes import INTENT_FLAG_ROUTES
from gateway.http.problems import EXCEPTION_HANDLERS
from gateway.runtime import Runtime
from gateway.store import audit, users
from tests.integration.sources_support import serving
from tests.integration.support import GOOD_REPLY, ingest_one

SARCASM = "@acme oh great, another update that deletes my playlists. thanks so much"


class Api:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base = base
        self.tokens = tokens

    async def call(
        self, role: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        async with httpx.AsyncClient(base_url=self.base, headers=headers, timeout=10) as c:
            return await c.request(method, path, json=body)


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[Api]:
    tokens: dict[str, str] = {}
    async with runtime.db.pool.acquire() as conn:
        for name, role in (("dave", "agent"), ("cora", "compliance"), ("ann", "auditor")):
            tokens[role] = secrets.token_hex(16)
            await users.add_user(conn, name=name, role=role, token=tokens[role])
    app = Litestar(
        route_handlers=[*ROUTES, *INTENT_FLAG_ROUTES],
        exception_handlers=EXCEPTION_HANDLERS,
        dependencies=DEPENDENCIES,
        debug=False,
    )
    app.state.runtime = runtime
    async with serving(app) as base:
        yield Api(base, tokens)


async def test_flag_is_audited_and_sends_replies_to_review(
    runtime: Runtime, api: Api, agent: User
) -> None:
    mention_id = await ingest_one(runtime, "@acme just bought the new blender, it's here")
    before = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert before.status == "denied"
    assert [r["code"] for r in before.reasons] == ["intent_not_eligible"]

    answer = await api.call(
        "agent",
        "POST",
        f"/v1/mentions/{mention_id}/intent-flags",
        {"intent": "complaint", "note": "sarcastic, they are upset"},
    )
    assert answer.status_code == 201, answer.text
    flag = answer.json()
    assert (flag["intent"], flag["flagged_by"], flag["mention_id"]) == (
        "complaint",
        "dave",
        mention_id,
    )
    assert flag["classified_intent"] == "other"

    async with runtime.db.pool.acquire() as conn:
        events = await audit.list_events(conn, kind="intent_flagged")
    assert [(e.actor, e.subject) for e in events] == [("dave", f"mention:{mention_id}")]
    assert events[0].payload["subject_id"]  # about a customer: sealed under their key

    shown = (await api.call("agent", "GET", f"/v1/mentions/{mention_id}")).json()
    assert shown["flagged_intent"] == "complaint"

    after = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert after.status == "pending_review"
    assert [r["code"] for r in after.reasons] == ["intent_overridden"]


async def test_flag_on_an_eligible_mention_still_holds_the_reply_for_review(
    runtime: Runtime, api: Api, agent: User
) -> None:
    mention_id = await ingest_one(runtime, "@acme my order never arrived and nobody answers")
    answer = await api.call(
        "agent", "POST", f"/v1/mentions/{mention_id}/intent-flags", {"intent": "question"}
    )
    assert answer.status_code == 201, answer.text
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert proposal.status == "pending_review"
    assert "intent_overridden" in [r["code"] for r in proposal.reasons]


async def test_flags_are_listed_and_exported_as_eval_candidates(runtime: Runtime, api: Api) -> None:
    mention_id = await ingest_one(runtime, SARCASM)
    for intent in ("question", "complaint"):  # the latest flag is the label
        answer = await api.call(
            "agent", "POST", f"/v1/mentions/{mention_id}/intent-flags", {"intent": intent}
        )
        assert answer.status_code == 201
    listed = await api.call("auditor", "GET", f"/v1/mentions/{mention_id}/intent-flags")
    assert [f["intent"] for f in listed.json()] == ["question", "complaint"]

    export = await api.call("compliance", "GET", "/v1/intent-flags/export")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["text"] == SARCASM
    assert (line["intent"], line["intents"], line["split"]) == (
        "complaint",
        ["complaint"],
        "candidate",
    )
    assert line["sentiment"] in ("negative", "neutral", "positive")
    assert line["source"].startswith("intent_flag:")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"intent": "sarcasm"}, "intent"),
        ({"intent": "unknown"}, "intent"),
        ({}, "intent"),
        ({"intent": "complaint", "note": "x" * 501}, "note"),
        ({"intent": "complaint", "extra": 1}, "extra"),
    ],
)
async def test_bad_flags_are_400_naming_the_field(
    runtime: Runtime, api: Api, body: dict[str, Any], field: str
) -> None:
    mention_id = await ingest_one(runtime, SARCASM)
    answer = await api.call("agent", "POST", f"/v1/mentions/{mention_id}/intent-flags", body)
    assert answer.status_code == 400, answer.text
    assert field in answer.text


async def test_flag_on_a_missing_mention_is_404_and_other_roles_are_403(
    runtime: Runtime, api: Api
) -> None:
    missing = await api.call(
        "agent", "POST", "/v1/mentions/999999/intent-flags", {"intent": "other"}
    )
    assert missing.status_code == 404
    mention_id = await ingest_one(runtime, SARCASM)
    for role in ("auditor", "compliance"):
        refused = await api.call(
            role, "POST", f"/v1/mentions/{mention_id}/intent-flags", {"intent": "complaint"}
        )
        assert refused.status_code == 403
    assert (await api.call("auditor", "GET", "/v1/intent-flags/export")).status_code == 403
