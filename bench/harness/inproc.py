"""Measurements made in the bench process against the gateway's database after the load:
policy evaluations/s (embedded regorus vs OPA in-process), impact analysis, verification."""

from __future__ import annotations

import copy
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from gateway.audit.verify import verify_stored_chain
from gateway.domain.policy_input import PolicyInput
from gateway.domain.records import User
from gateway.policy import EmbeddedEngine, load_bundle
from gateway.runtime import Runtime
from gateway.settings import Settings

REPO = Path(__file__).resolve().parent.parent.parent


async def stored_inputs(dsn: str, limit: int) -> list[PolicyInput]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT policy_input::text AS doc FROM proposals ORDER BY id LIMIT $1", limit
        )
    finally:
        await conn.close()
    return [msgspec.json.decode(r["doc"], type=PolicyInput) for r in rows]


async def policy_evaluations(inputs: list[PolicyInput]) -> dict[str, Any]:
    """Evaluations per second of the default bundle, the same inputs through each engine."""
    bundle = load_bundle(REPO / "policies")
    out: dict[str, Any] = {"inputs": len(inputs)}
    engine = EmbeddedEngine(bundle)
    try:
        await engine.decide(inputs[0])  # warm the thread's engine
        started = time.perf_counter()
        for item in inputs:
            await engine.decide(item)
        out["embedded_per_s"] = len(inputs) / (time.perf_counter() - started)
    finally:
        await engine.close()
    try:
        from opa_bindings import OpaEngine as GolibEngine  # the differential tests' OPA
    except ImportError as exc:
        out["opa_skipped"] = f"opa-golib-python-bindings not installed ({exc})"
        return out
    opa = GolibEngine()
    try:
        opa.print_handler = lambda message, location: None
        for path, text in bundle.policy_files.items():
            opa.add_policy(path, text)
        opa.add_data(bundle.data, "engagement")
        docs = [msgspec.to_builtins(i) for i in inputs]
        opa.eval_document("engagement.decision", docs[0])
        started = time.perf_counter()
        for doc in docs:
            opa.eval_document("engagement.decision", doc)
        out["opa_per_s"] = len(docs) / (time.perf_counter() - started)
    finally:
        opa.close()
    return out


async def impact_and_verify(dsn: str, impact_limit: int) -> dict[str, Any]:
    """Impact of a draft (tighter daily cap) over the last stored decisions, then a full
    chain verification; both as an officer or auditor would run them."""
    with tempfile.TemporaryDirectory(prefix="egw-bench-inproc-") as tmp:
        settings = Settings(
            database_url=dsn,
            data_dir=Path(tmp),
            demo=False,
            policy_dir=REPO / "policies",
            log_level="warning",
            retention_days=None,
        )
        rt = await Runtime.start(settings)
        try:
            assert rt.policies is not None
            state = await rt.policies.state()
            active = await rt.policies.version(state.active_revision or "")
            data = copy.deepcopy(active.data)
            data["caps"]["per_customer_24h"] = 1
            officer = User(
                id=0, name="bench-officer", role="compliance", created_at=datetime.now(UTC)
            )
            draft, _ = await rt.policies.draft(
                files=dict(active.files), data=data, description="bench", user=officer
            )
            started = time.perf_counter()
            report = await rt.policies.impact(draft.revision, limit=impact_limit)
            impact_s = time.perf_counter() - started
            async with rt.db.pool.acquire() as conn:
                started = time.perf_counter()
                verified = await verify_stored_chain(conn)
                verify_s = time.perf_counter() - started
        finally:
            await rt.close()
    return {
        "impact": {
            "decisions": report.evaluated,
            "seconds": impact_s,
            "per_s": report.evaluated / impact_s if impact_s else 0.0,
        },
        "verify": {
            "ok": verified.ok,
            "events": verified.events,
            "seconds": verify_s,
            "per_s": verified.events / verify_s if verify_s else 0.0,
        },
    }
