"""What the console's Policies pages read from the lifecycle service: one impact example
replayed (in the sandbox), and the history of who drafted, tested and activated."""

from __future__ import annotations

import pytest

from gateway.domain.records import User
from gateway.pipeline.errors import Forbidden, StateConflict
from gateway.runtime import Runtime
from gateway.store.errors import NotFound
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user
from tests.integration.test_policy_lifecycle import active_files, service


async def test_an_impact_example_shows_before_and_after_and_history_names_people(
    runtime: Runtime, agent: User, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    first = await ingest_one(runtime, COMPLAINT, handle="@p1@social.example")
    await runtime.decider.propose(mention_id=first, text=GOOD_REPLY, user=agent)
    second = await ingest_one(runtime, "@acme the refund is missing", handle="@p1@social.example")
    allowed = await runtime.decider.propose(mention_id=second, text="On it.", user=agent)
    assert allowed.status == "approved"

    files, data = await active_files(runtime)
    data["caps"]["per_customer_24h"] = 1  # type: ignore[index]
    draft, _ = await service(runtime).draft(
        files=files, data=data, description="one a day", user=officer
    )
    example = await service(runtime).impact_example(draft.revision, allowed.id)
    assert example.proposal_id == allowed.id
    assert (example.recorded.outcome, example.active.outcome) == ("allow", "allow")
    assert example.draft.outcome == "deny" and "frequency_cap" in example.draft.codes
    assert example.input["reply"]["text"] == "On it."
    with pytest.raises(NotFound):
        await service(runtime).impact_example(draft.revision, 10**9)

    await service(runtime).activate(draft.revision, user=colleague)
    history = await service(runtime).history()
    mine = [(e.kind, e.actor) for e in history if e.subject == f"policy:{draft.revision}"]
    assert mine == [("policy_activated", "dave"), ("policy_drafted", officer.name)]
    assert history[0].seq > history[-1].seq  # newest first


async def test_an_activation_request_is_carried_out_only_by_another_officer(
    runtime: Runtime, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    files, data = await active_files(runtime)
    data["caps"]["per_customer_7d"] = 9  # type: ignore[index]
    draft, _ = await service(runtime).draft(files=files, data=data, description="", user=officer)
    request = await service(runtime).request_activation(draft.revision, user=officer)
    assert (request.action, request.status, request.proposed_by) == (
        "activate",
        "pending",
        officer.name,
    )
    with pytest.raises(StateConflict, match="already requested"):
        await service(runtime).request_activation(draft.revision, user=colleague)
    assert [r.id for r in await service(runtime).requests()] == [request.id]
    with pytest.raises(Forbidden, match="two-person"):
        await service(runtime).confirm(request.id, user=officer)  # who asked
    assert (await service(runtime).state()).active_revision != draft.revision

    state = await service(runtime).confirm(request.id, user=colleague)
    assert state.active_revision == draft.revision == runtime.engine.revision
    assert state.activated_by == "dave"
    kinds = [e.kind for e in await service(runtime).history() if e.subject.endswith(draft.revision)]
    assert kinds[:2] == ["policy_activated", "policy_change_proposed"]


async def test_the_author_cannot_confirm_an_activation_someone_else_requested(
    runtime: Runtime, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    files, data = await active_files(runtime)
    data["caps"]["per_customer_7d"] = 8  # type: ignore[index]
    draft, _ = await service(runtime).draft(files=files, data=data, description="", user=officer)
    request = await service(runtime).request_activation(draft.revision, user=colleague)
    with pytest.raises(Forbidden, match="you wrote revision"):
        await service(runtime).confirm(request.id, user=officer)
    failing = dict(files)
    failing["engagement/zz_test.rego"] = (
        "package engagement_test\n\ntest_allow_no if {\n\tfalse\n}\n"
    )
    bad, _ = await service(runtime).draft(files=failing, data=data, description="", user=officer)
    with pytest.raises(StateConflict, match="tests fail"):
        await service(runtime).request_activation(bad.revision, user=officer)
