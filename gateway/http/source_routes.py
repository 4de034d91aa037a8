"""Configured sources (admins; compliance may read) and the inbound signed webhook.

The parts these handlers use live on ``app.state.sources`` (a ``SourceParts``), built from
the runtime on first use; an app may set its own beforehand (tests do, to fake DNS).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from gateway.http.auth import PUBLIC, roles
from gateway.http.bodies import MAX_INGEST_BODY_BYTES
from gateway.http.controllers import rt, user_with
from gateway.http.params import PathSource
from gateway.http.source_views import (
    SourceIn,
    SourceOut,
    SourcePatchIn,
    decode_delivery,
    source_out,
)
from gateway.http.views import IngestOut
from gateway.runtime import Runtime
from gateway.sources.inbound import InboundWebhooks
from gateway.sources.secrets import Secrets
from gateway.sources.service import SourceService

READERS = ("compliance",)


@dataclass(frozen=True)
class SourceParts:
    service: SourceService
    inbound: InboundWebhooks


def source_parts(runtime: Runtime, *, secrets: Secrets | None = None) -> SourceParts:
    box = secrets if secrets is not None else Secrets(runtime.settings)
    return SourceParts(
        service=SourceService(runtime.db.pool, box, runtime.settings),
        inbound=InboundWebhooks(runtime.db.pool, runtime.ingestor, box, runtime.settings),
    )


def _parts(request: Request[Any, Any, Any]) -> SourceParts:
    state = request.app.state
    parts: SourceParts | None = getattr(state, "sources", None)
    if parts is None:
        parts = source_parts(rt(request))
        state.sources = parts
    return parts


@get(
    "/v1/sources",
    summary="Configured sources and their health (admin, compliance)",
    guards=[roles(*READERS)],
)
async def list_sources(request: Request[Any, Any, Any]) -> list[SourceOut]:
    await user_with(request, *READERS)
    return [source_out(r) for r in await _parts(request).service.list()]


@post("/v1/sources", status_code=201, summary="Configure a source (admin)", guards=[roles("admin")])
async def add_source(request: Request[Any, Any, Any], data: JSONBody[SourceIn]) -> SourceOut:
    user = await user_with(request, "admin")
    return source_out(await _parts(request).service.add(data.to_spec(), actor=user.name))


@get(
    "/v1/sources/{name:str}",
    summary="One source and its health (admin, compliance)",
    guards=[roles(*READERS)],
)
async def get_source(request: Request[Any, Any, Any], name: PathSource) -> SourceOut:
    await user_with(request, *READERS)
    return source_out(await _parts(request).service.get(name))


@patch(
    "/v1/sources/{name:str}",
    summary="Enable, disable, change the interval (admin)",
    guards=[roles("admin")],
)
async def update_source(
    request: Request[Any, Any, Any], name: PathSource, data: JSONBody[SourcePatchIn]
) -> SourceOut:
    user = await user_with(request, "admin")
    service = _parts(request).service
    return source_out(await service.update(name, data.to_patch(), actor=user.name))


@delete(
    "/v1/sources/{name:str}",
    status_code=200,
    summary="Remove a source and its cursor",
    guards=[roles("admin")],
)
async def remove_source(request: Request[Any, Any, Any], name: PathSource) -> SourceOut:
    user = await user_with(request, "admin")
    return source_out(await _parts(request).service.remove(name, actor=user.name))


@post(
    "/v1/webhooks/{source:str}",
    status_code=200,
    summary="Push mentions, signed with the source's secret (no bearer token)",
    request_max_body_size=MAX_INGEST_BODY_BYTES,
    opt=PUBLIC,  # authenticated by the delivery's signature, not a bearer token
)
async def receive_webhook(request: Request[Any, Any, Any], source: FromPath[str]) -> IngestOut:
    result = await _parts(request).inbound.receive(
        source,
        timestamp=request.headers.get("x-gateway-timestamp"),
        signature=request.headers.get("x-gateway-signature"),
        body=await request.body(),
        now=time.time(),
        decode=decode_delivery,
    )
    return IngestOut(ids=result.ids, duplicates=result.duplicates)


SOURCE_ROUTES = [
    list_sources,
    add_source,
    get_source,
    update_source,
    remove_source,
    receive_webhook,
]
