"""The policy lifecycle as compliance officers use it: draft, test, impact, shadow,
activation by a second person, rollback; every step audited, every decision recorded
with the revision that made it."""

from __future__ import annotations

import copy

import pytest

from gateway.domain.records import User
from gateway.pipeline.errors import Forbidden, InvalidInput, StateConflict
from gateway.pipeline.policies import PolicyService, bundle_of
from gateway.policy import PolicyLoadError
from gateway.runtime import Runtime
from gateway.store import audit
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user


def service(rt: Runtime) -> PolicyService:
    assert rt.policies is not None
    return rt.policies


async def active_files(rt: Runtime) -> tuple[dict[str, str], dict[str, object]]:
    state = await service(rt).state()
    version = await service(rt).version(state.active_revision or "")
    return dict(version.files), copy.deepcopy(version.data)


async def event_kinds(rt: Runtime, subject: str) -> list[str]:
    async with rt.db.pool.acquire() as conn:
        return [e.kind for e in await audit.list_events(conn, subject=subject, limit=100)]


async def test_the_shipped_bundle_is_the_first_active_version(runtime: Runtime) -> None:
    state = await service(runtime).state()
    assert state.active_revision == runtime.engine.revision
    [version] = await service(runtime).versions()
    assert version.author == "system" and version.tests_passed is True
    assert "policy_activated" in await event_kinds(runtime, f"policy:{version.revision}")


async def test_a_draft_that_does_not_compile_is_refused_with_file_and_line(
    runtime: Runtime, officer: User
) -> None:
    files, data = await active_files(runtime)
    files["engagement/consent.rego"] += "\noops := {\n"
    with pytest.raises(PolicyLoadError) as refused:
        await service(runtime).draft(files=files, data=data, description="x", user=officer)
    assert refused.value.file == "engagement/consent.rego" and refused.value.line
    files, data = await active_files(runtime)
    files["engagement/clock.rego"] = "package engagement\n\nnow_ns := time.now_ns()\n"
    with pytest.raises(PolicyLoadError, match=r"time\.now_ns"):
        await service(runtime).draft(files=files, data=data, description="x", user=officer)
    assert len(await service(runtime).versions()) == 1


async def test_change_cap_test_impact_and_activate_by_a_colleague(
    runtime: Runtime, agent: User, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    # Two customers contacted once each under the current cap of 3 a day.
    for handle in ("@p1@social.example", "@p2@social.example"):
        first = await ingest_one(runtime, COMPLAINT, handle=handle)
        await runtime.decider.propose(mention_id=first, text=GOOD_REPLY, user=agent)
    second = await ingest_one(
        runtime, "@acme and the refund is missing too", handle="@p1@social.example"
    )
    allowed = await runtime.decider.propose(mention_id=second, text="We are on it.", user=agent)
    assert allowed.status == "approved"
    old_revision = allowed.policy_revision

    files, data = await active_files(runtime)
    data["caps"]["per_customer_24h"] = 1  # type: ignore[index]
    draft, created = await service(runtime).draft(
        files=files, data=data, description="one contact a day", user=officer
    )
    assert created and draft.tests_passed is True and draft.parent == old_revision
    diff = await service(runtime).diff(old_revision, draft.revision)
    assert [d.file for d in diff] == ["engagement/data.json"]
    assert (
        '-    "per_customer_24h": 3' in diff[0].diff
        and '+    "per_customer_24h": 1' in diff[0].diff
    )

    _version, report = await service(runtime).test(draft.revision, user=officer)
    assert report.ok and report.coverage

    impact = await service(runtime).impact(draft.revision, limit=100)
    assert impact.evaluated == 3
    assert impact.transitions == {"allow->deny": 1}
    assert impact.examples["allow->deny"] == [allowed.id]
    [reason] = impact.reasons
    assert (reason.code, reason.gained, reason.lost) == ("frequency_cap", 1, 0)

    with pytest.raises(Forbidden, match="two-person"):
        await service(runtime).activate(draft.revision, user=officer)
    state = await service(runtime).activate(draft.revision, user=colleague)
    assert state.active_revision == draft.revision
    assert runtime.engine.revision == draft.revision  # this instance switched at once

    third = await ingest_one(runtime, "@acme still nothing", handle="@p2@social.example")
    capped = await runtime.decider.propose(mention_id=third, text="Looking.", user=agent)
    assert capped.status == "denied" and capped.policy_revision == draft.revision
    assert "frequency_cap" in [r["code"] for r in capped.reasons]

    request = await service(runtime).rollback(user=officer)
    assert (request.action, request.revision, request.status) == (
        "rollback",
        old_revision,
        "pending",
    )
    rolled = await service(runtime).confirm(request.id, user=colleague)
    assert rolled.active_revision == old_revision
    assert await event_kinds(runtime, f"policy:{draft.revision}") == [
        "policy_drafted",
        "policy_tested",
        "policy_activated",
    ]
    kinds = await event_kinds(runtime, f"policy:{old_revision}")
    assert "policy_change_proposed" in kinds and "policy_rolled_back" in kinds


async def test_a_draft_whose_tests_fail_cannot_be_activated(
    runtime: Runtime, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    files, data = await active_files(runtime)
    files["engagement/zz_test.rego"] = (
        "package engagement_test\n\ntest_allow_never if {\n\tfalse\n}\n"
    )
    draft, _ = await service(runtime).draft(files=files, data=data, description="", user=officer)
    assert draft.tests_passed is False
    with pytest.raises(StateConflict, match="tests fail"):
        await service(runtime).activate(draft.revision, user=colleague)


async def test_shadow_results_are_stored_and_never_enforced(
    runtime: Runtime, agent: User, officer: User
) -> None:
    files, data = await active_files(runtime)
    data["eligible_intents"] = ["question"]  # the draft would refuse complaints
    draft, _ = await service(runtime).draft(files=files, data=data, description="", user=officer)
    request = await service(runtime).propose_shadow(draft.revision, user=officer)
    colleague = await make_user(runtime, "dave", "compliance")
    await service(runtime).confirm(request.id, user=colleague)
    mention_id = await ingest_one(runtime, COMPLAINT)
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    assert proposal.status == "approved"  # the active policy decided
    report = await service(runtime).shadow_report(draft.revision)
    assert report.compared == 1 and report.agreed == 0
    assert report.transitions == {"allow->deny": 1}
    assert report.examples["allow->deny"] == [proposal.id]
    await service(runtime).stop_shadow(user=officer)
    kinds = await event_kinds(runtime, f"policy:{draft.revision}")
    assert "policy_shadow_started" in kinds and "policy_shadow_stopped" in kinds


async def test_replayed_bundle_matches_the_live_engine(runtime: Runtime, agent: User) -> None:
    """Impact analysis replays with the same semantics as live decisions."""
    mention_id = await ingest_one(runtime, COMPLAINT)
    proposal = await runtime.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
    state = await service(runtime).state()
    active = await service(runtime).version(state.active_revision or "")
    assert bundle_of(active).revision == proposal.policy_revision
    impact = await service(runtime).impact(active.revision, limit=10)
    assert impact.evaluated == 1 and impact.changed == 0 and impact.errors == 0


async def _activated_draft(rt: Runtime, author: User, activator: User) -> tuple[str, str]:
    """(the shipped revision, a draft of ``author`` activated by ``activator``)."""
    files, data = await active_files(rt)
    old = (await service(rt).state()).active_revision or ""
    data["caps"]["per_customer_24h"] = 2  # type: ignore[index]
    draft, _ = await service(rt).draft(files=files, data=data, description="", user=author)
    await service(rt).activate(draft.revision, user=activator)
    return old, draft.revision


async def test_a_rollback_is_proposed_by_one_officer_and_confirmed_by_another(
    runtime: Runtime, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    old, new = await _activated_draft(runtime, officer, colleague)
    # One officer alone can no longer flip between the two newest revisions.
    first = await service(runtime).rollback(user=officer)
    assert (await service(runtime).state()).active_revision == new  # nothing changed yet
    with pytest.raises(Forbidden, match="two-person"):
        await service(runtime).confirm(first.id, user=officer)
    second = await service(runtime).rollback(user=officer)  # asking twice changes nothing
    assert (await service(runtime).state()).active_revision == new
    state = await service(runtime).confirm(first.id, user=colleague)
    assert state.active_revision == old and runtime.engine.revision == old
    with pytest.raises(StateConflict, match="already confirmed by dave"):
        await service(runtime).confirm(first.id, user=colleague)
    # The second request was made against the policy that is no longer active: stale.
    with pytest.raises(StateConflict, match="active policy changed") as stale:
        await service(runtime).confirm(second.id, user=colleague)
    assert "policy withdraw" in stale.value.cli_hint
    withdrawn = await service(runtime).withdraw(second.id, user=colleague)
    assert (withdrawn.status, withdrawn.decided_by) == ("withdrawn", "dave")
    # Going forward again to the draft (enforced before) is a rollback too, not an activation.
    with pytest.raises(StateConflict, match="enforced before") as refused:
        await service(runtime).activate(new, user=colleague)
    assert f"policy rollback --to {new}" in refused.value.cli_hint
    assert "/v1/" not in refused.value.cli_hint
    back = await service(runtime).rollback(user=colleague, to=new)
    assert (await service(runtime).confirm(back.id, user=officer)).active_revision == new
    assert await service(runtime).requests() == []

    async with runtime.db.pool.acquire() as conn:
        events = await audit.list_events(conn, kind="policy_rolled_back", limit=10)
    payloads = [(e.actor, e.payload["proposed_by"], e.payload["confirmed_by"]) for e in events]
    assert payloads == [("dave", "carol", "dave"), ("carol", "dave", "carol")]
    assert [e.payload["request_id"] for e in events] == [first.id, back.id]


async def test_a_shadow_starts_only_when_a_second_officer_confirms(
    runtime: Runtime, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    files, data = await active_files(runtime)
    data["eligible_intents"] = ["question"]
    draft, _ = await service(runtime).draft(files=files, data=data, description="", user=officer)
    request = await service(runtime).propose_shadow(draft.revision, user=officer)
    assert (await service(runtime).state()).shadow_revision is None
    with pytest.raises(Forbidden, match="two-person") as own:
        await service(runtime).confirm(request.id, user=officer)
    assert f"policy confirm {request.id}" in own.value.cli_hint
    [pending] = await service(runtime).requests()
    assert (pending.id, pending.action, pending.proposed_by) == (request.id, "shadow", "carol")
    state = await service(runtime).confirm(request.id, user=colleague)
    assert state.shadow_revision == draft.revision
    async with runtime.db.pool.acquire() as conn:
        [started] = await audit.list_events(conn, kind="policy_shadow_started", limit=10)
    assert started.actor == "dave"
    assert started.payload["proposed_by"] == "carol" and started.payload["confirmed_by"] == "dave"


async def test_a_term_that_can_never_match_is_refused_at_draft_time(
    runtime: Runtime, officer: User
) -> None:
    files, data = await active_files(runtime)
    data["sensitive_topics"]["health"].append("Covid")  # type: ignore[index]
    with pytest.raises(InvalidInput, match=r"sensitive_topics\.health: the term 'Covid'"):
        await service(runtime).draft(files=files, data=data, description="", user=officer)
    assert len(await service(runtime).versions()) == 1
