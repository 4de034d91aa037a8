"""Agents disagree with the classifier: flag a mention's intent; export the flags."""

from __future__ import annotations

import msgspec
from litestar import Response, get, post
from litestar.params import JSONBody

from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import PathId
from gateway.http.views import IntentFlagIn, IntentFlagOut, intent_flag_out

_ENCODER = msgspec.json.Encoder()


@post(
    "/v1/mentions/{mention_id:int}/intent-flags",
    status_code=201,
    summary="Flag the mention's classified intent as wrong (agent); replies go to review",
    guards=[roles("agent")],
)
async def flag_intent(
    user: CurrentUser, runtime: Services, mention_id: PathId, data: JSONBody[IntentFlagIn]
) -> IntentFlagOut:
    flag = await runtime.intent_flags.flag(
        mention_id, intent=data.intent, note=data.note, user=user
    )
    return intent_flag_out(flag)


@get(
    "/v1/mentions/{mention_id:int}/intent-flags",
    summary="The intent flags of a mention",
    guards=[roles("agent", "compliance", "auditor")],
)
async def list_intent_flags(runtime: Services, mention_id: PathId) -> list[IntentFlagOut]:
    return [intent_flag_out(f) for f in await runtime.intent_flags.flags(mention_id)]


@get(
    "/v1/intent-flags/export",
    summary="Flagged mentions as evaluation-set candidates (JSONL, one line per mention)",
    guards=[roles("agent", "compliance")],
)
async def export_intent_flags(runtime: Services) -> Response[bytes]:
    lines = await runtime.intent_flags.candidates()
    body = b"".join(_ENCODER.encode(line) + b"\n" for line in lines)
    return Response(
        body,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="intent-flag-candidates.jsonl"'},
    )


INTENT_FLAG_ROUTES = [flag_intent, list_intent_flags, export_intent_flags]
