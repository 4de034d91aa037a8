"""Request bodies: how large and how deeply nested a JSON body may be.

Litestar reads a body only after the route's guards ran, so an unauthenticated caller never
gets this far (see ``gateway.http.auth.authenticated``). A body larger than
``MAX_BODY_BYTES`` (``MAX_INGEST_BODY_BYTES`` for a batch of mentions) is 413; one nested
deeper than ``MAX_JSON_DEPTH`` arrays and objects is 400, checked before any of it is
converted into the route's Structs.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException
from litestar.serialization import decode_json
from litestar.types import Empty

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_INGEST_BODY_BYTES = 5 * 1024 * 1024  # a batch of mentions (API or webhook delivery)
MAX_JSON_DEPTH = 32


class BodyTooDeep(ClientException):
    status_code = 400


def json_depth(value: Any) -> int:
    """How many arrays/objects deep ``value`` nests (0 for a scalar); iterative, no recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_JSON_DEPTH:
                return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def _too_deep() -> BodyTooDeep:
    return BodyTooDeep(
        detail=f"the JSON body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep"
    )


class GatewayRequest(Request[Any, Any, Any]):
    """A Request whose JSON body is refused (400) when nested too deeply."""

    async def json(self) -> Any:
        if self._json is Empty and self._connection_state.json is Empty:
            body = await self.body()
            try:
                value = decode_json(
                    body or b"null", type_decoders=self.route_handler.resolve_type_decoders()
                )
            except RecursionError:
                raise _too_deep() from None
            if json_depth(value) > MAX_JSON_DEPTH:
                raise _too_deep()
            self._json = self._connection_state.json = value
        return await super().json()
