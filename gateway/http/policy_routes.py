"""Policy lifecycle endpoints (compliance officers; auditors may read)."""

from __future__ import annotations

from litestar import delete, get, post
from litestar.params import FromQuery, JSONBody

from gateway.domain.records import PolicyRequest
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import PathId, PathRevision
from gateway.http.policy_views import (
    DraftIn,
    ImpactIn,
    PolicyDetail,
    PolicyStateOut,
    PolicySummary,
    RollbackIn,
    detail,
    state_out,
    summary,
)
from gateway.pipeline.errors import StateConflict
from gateway.pipeline.policies import FileDiff, ImpactReport, PolicyService, ShadowReport
from gateway.policy.testing import TestReport
from gateway.runtime import Runtime

READERS = ("compliance", "auditor")


def _service(runtime: Runtime) -> PolicyService:
    service = runtime.policies
    if service is None:
        raise StateConflict("this gateway runs a pinned engine; the policy lifecycle is off")
    return service


def _enforced(runtime: Runtime) -> str:
    return runtime.engine.revision


@get("/v1/policies", summary="Policy versions, newest first", guards=[roles(*READERS)])
async def list_policies(runtime: Services) -> list[PolicySummary]:
    service = _service(runtime)
    state = await service.state()
    return [summary(v, state) for v in await service.versions()]


@get(
    "/v1/policies/state",
    summary="Which revision is active, previous, in shadow",
    guards=[roles(*READERS)],
)
async def policy_state(runtime: Services) -> PolicyStateOut:
    return state_out(await _service(runtime).state(), _enforced(runtime))


@get(
    "/v1/policies/{revision:str}",
    summary="One version: files, data, author, state, tests",
    guards=[roles(*READERS)],
)
async def get_policy(runtime: Services, revision: PathRevision) -> PolicyDetail:
    service = _service(runtime)
    return detail(await service.version(revision), await service.state())


@post(
    "/v1/policies",
    status_code=201,
    summary="A new draft from files and data",
    guards=[roles("compliance")],
)
async def create_policy(
    user: CurrentUser, runtime: Services, data: JSONBody[DraftIn]
) -> PolicyDetail:
    service = _service(runtime)
    version, _created = await service.draft(
        files=data.files,
        data=data.data,
        description=data.description,
        user=user,
        parent=data.parent,
    )
    return detail(version, await service.state())


@get(
    "/v1/policies/{old:str}/diff/{new:str}",
    summary="What changed between two revisions",
    guards=[roles(*READERS)],
)
async def diff_policies(runtime: Services, old: PathRevision, new: PathRevision) -> list[FileDiff]:
    return await _service(runtime).diff(old, new)


@post(
    "/v1/policies/{revision:str}/test",
    status_code=200,
    summary="Run the Rego unit tests",
    guards=[roles("compliance")],
)
async def test_policy(user: CurrentUser, runtime: Services, revision: PathRevision) -> TestReport:
    _version, report = await _service(runtime).test(revision, user=user)
    result: TestReport = report
    return result


@post(
    "/v1/policies/{revision:str}/impact",
    status_code=200,
    summary="Replay stored decisions through the draft and the active policy",
    guards=[roles("compliance")],
)
async def impact_policy(
    runtime: Services,
    revision: PathRevision,
    data: JSONBody[ImpactIn | None] = None,
) -> ImpactReport:
    params = data or ImpactIn()
    return await _service(runtime).impact(
        revision, limit=params.last, since=params.since, until=params.until
    )


@post(
    "/v1/policies/{revision:str}/shadow",
    status_code=202,
    summary="Propose evaluating this draft beside every live decision (never enforced); "
    "it starts when another officer confirms",
    guards=[roles("compliance")],
)
async def start_shadow(
    user: CurrentUser, runtime: Services, revision: PathRevision
) -> PolicyRequest:
    return await _service(runtime).propose_shadow(revision, user=user)


@delete(
    "/v1/policies/shadow",
    status_code=200,
    summary="Stop shadow evaluation",
    guards=[roles("compliance")],
)
async def stop_shadow(user: CurrentUser, runtime: Services) -> PolicyStateOut:
    state = await _service(runtime).stop_shadow(user=user)
    return state_out(state, _enforced(runtime))


@get(
    "/v1/policies/{revision:str}/shadow-report",
    summary="Shadow vs enforced decisions",
    guards=[roles(*READERS)],
)
async def shadow_report(runtime: Services, revision: PathRevision) -> ShadowReport:
    return await _service(runtime).shadow_report(revision)


@post(
    "/v1/policies/{revision:str}/activate",
    status_code=200,
    summary="Enforce this revision (tests must pass; not by its author)",
    guards=[roles("compliance")],
)
async def activate_policy(
    user: CurrentUser, runtime: Services, revision: PathRevision
) -> PolicyStateOut:
    state = await _service(runtime).activate(revision, user=user)
    return state_out(state, _enforced(runtime))


@post(
    "/v1/policies/{revision:str}/request-activation",
    status_code=202,
    summary="Ask another officer to activate this draft (tests must pass); it is enforced "
    "when someone who neither wrote it nor asked confirms the request",
    guards=[roles("compliance")],
)
async def request_activation(
    user: CurrentUser, runtime: Services, revision: PathRevision
) -> PolicyRequest:
    return await _service(runtime).request_activation(revision, user=user)


@post(
    "/v1/policies/rollback",
    status_code=202,
    summary="Propose re-activating an earlier revision (default: the previous one); "
    "it happens when another officer confirms",
    guards=[roles("compliance")],
)
async def rollback_policy(
    user: CurrentUser, runtime: Services, data: JSONBody[RollbackIn | None] = None
) -> PolicyRequest:
    return await _service(runtime).rollback(user=user, to=data.to if data else None)


@get(
    "/v1/policies/requests",
    summary="Activations, rollbacks and shadows waiting for a second officer",
    guards=[roles(*READERS)],
)
async def list_policy_requests(
    runtime: Services, include_decided: FromQuery[bool] = False
) -> list[PolicyRequest]:
    return await _service(runtime).requests(pending_only=not include_decided)


@post(
    "/v1/policies/requests/{request_id:int}/confirm",
    status_code=200,
    summary="Carry out a request another officer proposed (two-person rule)",
    guards=[roles("compliance")],
)
async def confirm_policy_request(
    user: CurrentUser, runtime: Services, request_id: PathId
) -> PolicyStateOut:
    state = await _service(runtime).confirm(request_id, user=user)
    return state_out(state, _enforced(runtime))


@post(
    "/v1/policies/requests/{request_id:int}/withdraw",
    status_code=200,
    summary="Withdraw a pending request (the proposer's, or turned down by another officer)",
    guards=[roles("compliance")],
)
async def withdraw_policy_request(
    user: CurrentUser, runtime: Services, request_id: PathId
) -> PolicyRequest:
    return await _service(runtime).withdraw(request_id, user=user)


POLICY_ROUTES = [
    list_policies,
    policy_state,
    get_policy,
    create_policy,
    diff_policies,
    test_policy,
    impact_policy,
    start_shadow,
    stop_shadow,
    shadow_report,
    activate_policy,
    request_activation,
    rollback_policy,
    list_policy_requests,
    confirm_policy_request,
    withdraw_policy_request,
]
