"""Revisions that replay: a revision is the hash of the exact bytes stored and loaded, so
every decision's revision can be fetched, verified and replayed, whatever its numbers."""

from __future__ import annotations

import copy
import json
import math

import asyncpg
import msgspec
import pytest

from gateway.audit.replay import replay_event
from gateway.domain.policy_content import canonical_content, revision_of
from gateway.domain.records import User
from gateway.pipeline.policies import PolicyService
from gateway.policy import BundleError, bundle_revision
from gateway.runtime import Runtime
from gateway.store import audit
from gateway.store import policies as store
from gateway.store.errors import Conflict
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user

# Each of these comes back different from JSONB: 0.0, a 301-digit integer, an integer.
NUMBERS = {
    "negative_zero": -0.0,
    "huge": 1e300,
    "long": 12345678901234567890.5,
    "big_integer": 123456789012345678901234567890,
}


def service(rt: Runtime) -> PolicyService:
    assert rt.policies is not None
    return rt.policies


async def active_files(rt: Runtime) -> tuple[dict[str, str], dict[str, object]]:
    state = await service(rt).state()
    version = await service(rt).version(state.active_revision or "")
    return dict(version.files), copy.deepcopy(version.data)


async def assert_every_active_revision_verifies(rt: Runtime) -> set[str]:
    async with rt.db.pool.acquire() as conn:
        events = await audit.list_events(conn, limit=1000)
    revisions = {
        e.payload["revision"]
        for e in events
        if e.kind in ("policy_activated", "policy_rolled_back")
    }
    for revision in revisions:
        version = await service(rt).version(revision)
        assert bundle_revision(version.files, version.data) == revision
    return revisions


async def test_a_draft_with_numbers_jsonb_would_change_is_enforced_and_replayed_as_drafted(
    runtime: Runtime, agent: User, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    files, data = await active_files(runtime)
    data["numbers"] = dict(NUMBERS)
    draft, created = await service(runtime).draft(
        files=files, data=data, description="numbers", user=officer
    )
    assert created and draft.tests_passed is True
    assert draft.revision == bundle_revision(files, data)
    stored = await service(runtime).version(draft.revision)
    assert stored.data["numbers"] == NUMBERS
    assert math.copysign(1.0, stored.data["numbers"]["negative_zero"]) == -1.0

    await service(runtime).activate(draft.revision, user=colleague)
    assert runtime.engine.revision == draft.revision
    mention_id = await ingest_one(runtime, COMPLAINT, handle="@numbers@social.example")
    decided = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert decided.policy_revision == draft.revision
    async with runtime.db.pool.acquire() as conn:
        replayed = await replay_event(conn, decided.audit_seq)
    assert replayed.policy_revision == draft.revision and replayed.same

    assert draft.revision in await assert_every_active_revision_verifies(runtime)


async def test_data_that_cannot_read_back_the_same_is_refused_naming_it(
    runtime: Runtime, officer: User
) -> None:
    files, data = await active_files(runtime)
    data["numbers"] = {"too_big": float("inf")}
    with pytest.raises(BundleError, match=r"data\.numbers\.too_big is inf"):
        await service(runtime).draft(files=files, data=data, description="x", user=officer)


async def test_versions_stored_before_0012_get_their_bytes_or_their_enforced_revision(
    runtime: Runtime, database_url: str
) -> None:
    files, data = await active_files(runtime)
    clean = {**data, "note": "plain"}
    changed = {**data, "numbers": dict(NUMBERS)}
    clean_rev, changed_rev = bundle_revision(files, clean), bundle_revision(files, changed)
    # What JSONB gave back for ``changed`` before 0012, i.e. what the gateway enforced.
    owner = await asyncpg.connect(database_url)
    try:
        for revision, body in ((clean_rev, clean), (changed_rev, changed)):
            await owner.execute(
                "INSERT INTO policy_versions (revision, files, data, author, tests_passed)"
                " VALUES ($1, $2::text::jsonb, $3::text::jsonb, 'legacy', true)",
                revision,
                json.dumps(files),
                json.dumps(body),  # how the gateway wrote versions before 0012
            )
        await owner.execute("UPDATE policy_state SET previous_revision = $1", changed_rev)
        async with owner.transaction():
            recovered = await store.backfill_content(owner)
        jsonb_data = await owner.fetchval(
            "SELECT data::text FROM policy_versions WHERE revision = $1", changed_rev
        )
        previous = await owner.fetchval("SELECT previous_revision FROM policy_state")
    finally:
        await owner.close()

    enforced = revision_of(canonical_content(files, msgspec.json.decode(jsonb_data)))
    assert enforced != changed_rev
    assert recovered == [(changed_rev, enforced)]
    assert previous == enforced
    async with runtime.db.pool.acquire() as conn:
        assert (await store.get_version(conn, clean_rev)).data == clean
        kept = await store.get_version(conn, enforced)
        assert bundle_revision(kept.files, kept.data) == enforced and kept.parent == changed_rev
        with pytest.raises(Conflict, match="stored before revisions were kept byte for byte"):
            await store.get_version(conn, changed_rev)
        listed = {v.revision for v in await store.list_versions(conn)}
    assert {clean_rev, changed_rev, enforced} <= listed
