"""The reference: a Litestar + msgspec JSON echo of the proposal body, nothing else.

python -m uvicorn bench.harness.echo_app:app --port P
"""

from __future__ import annotations

import msgspec
from litestar import Litestar, post


class ProposalBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mention_id: int
    text: str
    ai_generated: bool = False


@post("/v1/proposals", status_code=201)
async def echo(data: ProposalBody) -> ProposalBody:
    return data


app = Litestar(route_handlers=[echo], debug=False)
