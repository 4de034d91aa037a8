"""A decision re-made under the contact locks does not wait for the shadow policy.

When concurrent proposals for one customer change the customer's counts, the decision is
re-made on the fresh counts while the group-commit batch holds its locks. A shadow decision
may take up to GATEWAY_SHADOW_WAIT_S; waiting for it there would hold every other job of
the batch, so the shadow result of such a decision is recorded as skipped instead.
"""

from __future__ import annotations

import asyncio

from gateway.domain.records import User
from gateway.runtime import Runtime
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user
from tests.integration.test_sandboxed_lifecycle import service, stored_shadow
from tests.support.hostile_policies import with_decision


async def test_redecided_proposals_record_the_shadow_as_skipped(
    runtime: Runtime, agent: User, officer: User
) -> None:
    colleague = await make_user(runtime, "dave", "compliance")
    draft, _ = await service(runtime).draft(
        files=with_decision("true"), data={}, description="allow all", user=officer
    )
    request = await service(runtime).propose_shadow(draft.revision, user=officer)
    await service(runtime).confirm(request.id, user=colleague)
    ids = [await ingest_one(runtime, COMPLAINT, handle="@race@social.example") for _ in range(6)]
    results = await asyncio.gather(
        *(runtime.decider.propose(mention_id=m, text=GOOD_REPLY, user=agent) for m in ids)
    )
    denied = [p for p in results if p.status == "denied"]
    assert denied, [p.status for p in results]
    for p in denied:  # each saw the cap reached only under the locks: re-decided
        shadow = await stored_shadow(runtime, p.id)
        assert "re-decided on fresh counts" in shadow["error"], shadow
