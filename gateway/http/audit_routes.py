"""Auditor endpoints beyond the listing: key, checkpoints, proofs, export, replay."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from gateway.audit.bundle import build_evidence
from gateway.audit.checkpoints import Checkpoint
from gateway.audit.export import export_stream
from gateway.audit.proofs import ConsistencyProof, InclusionProof, consistency, inclusion
from gateway.audit.replay import ReplayResult, replay_event
from gateway.audit.subjects import Erasure, erase_subject
from gateway.domain.identity import ANY_CHANNEL, canonical_id
from gateway.http.auth import PUBLIC, CurrentUser, Services, roles
from gateway.http.params import (
    MAX_INT64,
    Channel,
    Name,
    PathId,
    QueryChannel,
    QueryFilter,
    QueryId,
    QueryName,
    instant,
)
from gateway.pipeline.errors import InvalidInput, StateConflict
from gateway.pipeline.log_search import LogFilter, selection_for
from gateway.runtime import Runtime
from gateway.store import checkpoints as checkpoint_store
from gateway.store import identities, reports
from gateway.store.audit import ExportFilter
from gateway.store.subjects import subject_ids_of

READERS = ("auditor", "compliance")


@get(
    "/v1/audit/key",
    summary="The Ed25519 public key that signs checkpoints (PEM); public, no token needed",
    opt=PUBLIC,
)
async def audit_key(runtime: Services) -> Response[bytes]:
    pem = runtime.audit_public_pem
    if pem is None:
        raise StateConflict("checkpoint signing is not configured on this gateway")
    return Response(pem, media_type="application/x-pem-file")


@get("/v1/audit/checkpoints", summary="Signed checkpoints, oldest first", guards=[roles(*READERS)])
async def list_checkpoints(
    runtime: Services,
    after: Annotated[int, QueryParameter(ge=0, le=MAX_INT64)] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
) -> list[Checkpoint]:
    async with runtime.db.pool.acquire() as conn:
        return await checkpoint_store.list_checkpoints(conn, after=after, limit=limit)


@get("/v1/audit/checkpoints/{size:int}", summary="One checkpoint", guards=[roles(*READERS)])
async def get_checkpoint(runtime: Services, size: PathId) -> Checkpoint:
    async with runtime.db.pool.acquire() as conn:
        return await checkpoint_store.get_checkpoint(conn, size)


@get(
    "/v1/audit/events/{seq:int}/proof",
    summary="Inclusion proof of one event",
    guards=[roles(*READERS)],
)
async def event_proof(runtime: Services, seq: PathId, checkpoint: QueryId = None) -> InclusionProof:
    async with runtime.db.pool.acquire() as conn:
        return await inclusion(conn, seq, size=checkpoint)


@get(
    "/v1/audit/checkpoints/{old:int}/consistency/{new:int}",
    summary="Consistency proof between two checkpoints",
    guards=[roles(*READERS)],
)
async def checkpoint_consistency(runtime: Services, old: PathId, new: PathId) -> ConsistencyProof:
    async with runtime.db.pool.acquire() as conn:
        return await consistency(conn, old, new)


@get(
    "/v1/audit/export", summary="The audit log as JSONL or CSV, streamed", guards=[roles(*READERS)]
)
async def export_audit(
    runtime: Services,
    format: FromQuery[Literal["jsonl", "csv"]] = "jsonl",
    kind: QueryFilter = None,
    actor: QueryFilter = None,
    subject: QueryFilter = None,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    customer: QueryFilter = None,
    outcome: FromQuery[Literal["allow", "review", "deny"] | None] = None,
    reason: QueryFilter = None,
    policy_revision: QueryFilter = None,
    decrypt: FromQuery[bool | None] = None,
) -> Stream:
    # Every filter is checked here, before the stream starts: a bad one is a 400, never
    # a 200 whose body breaks off.
    since, until = instant("since", since), instant("until", until)
    pool = runtime.db.pool
    # Checked before the stream starts, so a non-identity is a 400, not a broken stream.
    spelled = canonical_id(ANY_CHANNEL, customer, field="customer") if customer else None

    async def chunks() -> AsyncIterator[bytes]:
        async with (
            pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            ids = (
                await subject_ids_of(conn, await identities.candidates(conn, spelled))
                if spelled
                else None
            )
            where = ExportFilter(
                kind=kind,
                actor=actor,
                subject=subject,
                since=since,
                until=until,
                subject_ids=ids,
                outcome=outcome,
                reason=reason,
                policy_revision=policy_revision,
            )
            opened_form = decrypt if decrypt is not None else format == "csv"
            async for chunk in export_stream(conn, where, fmt=format, decrypt=opened_form):
                yield chunk

    # Litestar appends "; charset=utf-8" to text/* media types itself.
    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    name = f"audit-export.{format}"
    return Stream(
        chunks(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@get(
    "/v1/audit/bundle",
    summary="An evidence bundle (.tar.gz): the export, its checkpoints, the key, a README",
    guards=[roles(*READERS)],
)
async def evidence_bundle(
    runtime: Services,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    kind: QueryFilter = None,
    actor: QueryFilter = None,
    customer: QueryFilter = None,
    channel: QueryFilter = None,
    outcome: FromQuery[Literal["allow", "review", "deny"] | None] = None,
    reason: QueryFilter = None,
    revision: QueryFilter = None,
) -> Stream:
    """The filters (those of ``GET /v1/audit/events``) add ``selection.json``: which of
    the bundle's events they match. The bundle still holds the whole chain."""
    where = LogFilter(
        since=instant("since", since),
        until=instant("until", until),
        kind=kind,
        actor=actor,
        customer=customer,
        channel=channel,
        outcome=outcome,
        reason=reason,
        revision=revision,
    )
    return await bundle_download(runtime, where)


async def bundle_download(runtime: Runtime, where: LogFilter) -> Stream:
    """The evidence bundle for ``where`` as a download (the API's and the console's)."""
    if runtime.checkpointer is None or runtime.audit_public_pem is None:
        raise StateConflict("checkpoint signing is not configured on this gateway")
    selection = await selection_for(runtime.db.pool, where)  # a bad filter: 400 first
    scratch = Path(tempfile.mkdtemp(prefix="audit-bundle-"))
    try:
        path = scratch / "bundle.tar.gz"
        info = await build_evidence(
            runtime.db.pool,
            runtime.checkpointer,
            runtime.audit_public_pem,
            path,
            selection=selection,
        )
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise

    async def chunks() -> AsyncIterator[bytes]:
        try:
            with path.open("rb") as handle:
                while chunk := await asyncio.to_thread(handle.read, 256 * 1024):
                    yield chunk
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return Stream(
        chunks(),
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{info.filename}"'},
        # Also when the client went away before the body was read.
        background=BackgroundTask(shutil.rmtree, scratch, ignore_errors=True),
    )


@post(
    "/v1/audit/events/{seq:int}/replay",
    status_code=200,
    summary="Evaluate the recorded input against the recorded policy revision",
    guards=[roles(*READERS)],
)
async def replay(runtime: Services, seq: PathId) -> ReplayResult:
    async with runtime.db.pool.acquire() as conn:
        return await replay_event(conn, seq)


AUDIT_ROUTES = [
    audit_key,
    list_checkpoints,
    get_checkpoint,
    event_proof,
    checkpoint_consistency,
    export_audit,
    evidence_bundle,
    replay,
]


@get(
    "/v1/audit/reports/decisions",
    summary="Decisions per group: a total, per outcome, and per reason code (apart)",
    guards=[roles(*READERS)],
)
async def report_decisions(
    runtime: Services,
    group_by: FromQuery[Literal["day", "agent", "policy_revision"]] = "day",
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
) -> list[reports.DecisionGroup]:
    since, until = instant("since", since), instant("until", until)
    async with runtime.db.pool.acquire() as conn:
        return await reports.decisions_by(conn, group_by=group_by, since=since, until=until)


@get(
    "/v1/audit/reports/customer",
    summary="Every reply released to one customer",
    guards=[roles(*READERS)],
)
async def report_customer(
    runtime: Services, channel: QueryChannel, handle: QueryName
) -> list[dict[str, Any]]:
    channel, handle = channel.strip(), handle.strip()
    if not channel or not handle or len(channel) > 64 or len(handle) > 500:
        raise InvalidInput(
            "channel (1 to 64 characters) and handle (1 to 500 characters) are both needed, "
            "e.g. ?channel=demo&handle=%40sam%40social.example (URL-encoded)"
        )
    async with runtime.db.pool.acquire() as conn:
        customer = await identities.resolve(conn, channel=channel, value=handle)
        return await reports.released_to(conn, channel=channel, handle=customer)


@get(
    "/v1/audit/reports/overrides",
    summary="Decisions a person overrode in review",
    guards=[roles(*READERS)],
)
async def report_overrides(runtime: Services) -> list[dict[str, Any]]:
    async with runtime.db.pool.acquire() as conn:
        return await reports.human_overrides(conn)


AUDIT_ROUTES += [report_decisions, report_customer, report_overrides]


class EraseIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    channel: Channel
    handle: Name


@post(
    "/v1/subjects/erase",
    status_code=200,
    summary="Erase a customer: destroy their key and content; events stay verifiable",
    guards=[roles("compliance")],
)
async def erase_subject_route(
    user: CurrentUser, runtime: Services, data: JSONBody[EraseIn]
) -> Erasure:
    async with runtime.db.pool.acquire() as conn:
        return await erase_subject(
            conn,
            channel=data.channel.strip(),
            handle=data.handle,
            by=user.name,
            keys=runtime.suppression_keys,
        )


AUDIT_ROUTES += [erase_subject_route]
