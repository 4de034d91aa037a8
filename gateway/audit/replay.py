"""Replaying one recorded decision against the policy revision that made it."""

from __future__ import annotations

import asyncio
import json

import msgspec

from gateway.audit.personal import is_erased
from gateway.audit.subjects import opened
from gateway.policy.bundle import verified_bundle
from gateway.policy.replay import Replayed, replay_batch
from gateway.store import audit as audit_store
from gateway.store import policies as policy_store
from gateway.store.connection import Conn
from gateway.store.errors import Conflict

REPLAYABLE = ("proposal_decided", "releasing", "release_withdrawn")


class ReplayResult(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    kind: str
    policy_revision: str
    recorded: Replayed
    replayed: Replayed
    same: bool


async def replay_event(conn: Conn, seq: int) -> ReplayResult:
    [event] = await opened(conn, [await audit_store.get_event(conn, seq)])
    payload = event.payload
    if event.kind not in REPLAYABLE or "input" not in payload or "decision" not in payload:
        raise Conflict(
            f"event {seq} is a {event.kind} event; only decisions "
            f"({', '.join(REPLAYABLE)}) can be replayed"
        )
    if is_erased(payload):
        raise Conflict(
            f"event {seq} belongs to a customer whose data was erased; its input cannot be "
            "replayed (the event itself still verifies)"
        )
    revision = event.policy_revision or ""
    version = await policy_store.get_version(conn, revision)
    bundle = verified_bundle(version.files, version.data, revision=revision)
    decision = payload["decision"]
    recorded = Replayed(
        outcome=decision["outcome"],
        codes=sorted({str(r.get("code")) for r in decision.get("reasons", [])}),
        error=decision.get("error"),
    )
    [[replayed]] = await asyncio.to_thread(replay_batch, [bundle], [json.dumps(payload["input"])])
    same = replayed.outcome == recorded.outcome and replayed.codes == recorded.codes
    return ReplayResult(
        seq=seq,
        kind=event.kind,
        policy_revision=revision,
        recorded=recorded,
        replayed=replayed,
        same=same,
    )
