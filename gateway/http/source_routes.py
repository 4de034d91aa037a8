"""Configured sources (admins; compliance may read) and the inbound signed webhook.

The parts these handlers use come by injection: ``sources: Sources`` (a ``SourceParts``,
``gateway.http.source_parts``).
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from gateway.http.auth import PUBLIC, CurrentUser, Sources, roles
from gateway.http.bodies import MAX_INGEST_BODY_BYTES
from gateway.http.params import PathSource
from gateway.http.source_views import (
    SourceIn,
    SourceOut,
    SourcePatchIn,
    decode_delivery,
    source_out,
)
from gateway.http.views import IngestOut

READERS = ("compliance",)


@get(
    "/v1/sources",
    summary="Configured sources and their health (admin, compliance)",
    guards=[roles(*READERS)],
)
async def list_sources(sources: Sources) -> list[SourceOut]:
    return [source_out(r) for r in await sources.service.list()]


@post("/v1/sources", status_code=201, summary="Configure a source (admin)", guards=[roles("admin")])
async def add_source(user: CurrentUser, sources: Sources, data: JSONBody[SourceIn]) -> SourceOut:
    return source_out(await sources.service.add(data.to_spec(), actor=user.name))


@get(
    "/v1/sources/{name:str}",
    summary="One source and its health (admin, compliance)",
    guards=[roles(*READERS)],
)
async def get_source(sources: Sources, name: PathSource) -> SourceOut:
    return source_out(await sources.service.get(name))


@patch(
    "/v1/sources/{name:str}",
    summary="Enable, disable, change the interval (admin)",
    guards=[roles("admin")],
)
async def update_source(
    user: CurrentUser, sources: Sources, name: PathSource, data: JSONBody[SourcePatchIn]
) -> SourceOut:
    service = sources.service
    return source_out(await service.update(name, data.to_patch(), actor=user.name))


@delete(
    "/v1/sources/{name:str}",
    status_code=200,
    summary="Remove a source and its cursor",
    guards=[roles("admin")],
)
async def remove_source(user: CurrentUser, sources: Sources, name: PathSource) -> SourceOut:
    return source_out(await sources.service.remove(name, actor=user.name))


@post(
    "/v1/webhooks/{source:str}",
    status_code=200,
    summary="Push mentions, signed with the source's secret (no bearer token)",
    request_max_body_size=MAX_INGEST_BODY_BYTES,
    opt=PUBLIC,  # authenticated by the delivery's signature, not a bearer token
)
async def receive_webhook(
    request: Request[Any, Any, Any], sources: Sources, source: FromPath[str]
) -> IngestOut:
    result = await sources.inbound.receive(
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
