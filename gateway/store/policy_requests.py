"""Pending two-person changes to what is enforced (rollback, shadow): proposed, then
confirmed or withdrawn. Rows are never deleted; a decided request keeps who decided."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.domain.records import PolicyRequest
from gateway.store.connection import Conn
from gateway.store.errors import NotFound

_COLUMNS = (
    "id, action, revision, base_revision, proposed_by, proposed_at, status, decided_by, decided_at"
)


def _request(row: Any) -> PolicyRequest:
    return PolicyRequest(**{k: row[k] for k in _COLUMNS.replace(" ", "").split(",")})


async def insert_request(
    conn: Conn, *, action: str, revision: str, base_revision: str | None, proposed_by: str
) -> PolicyRequest:
    row = await conn.fetchrow(
        "INSERT INTO policy_requests (action, revision, base_revision, proposed_by)"
        f" VALUES ($1, $2, $3, $4) RETURNING {_COLUMNS}",
        action,
        revision,
        base_revision,
        proposed_by,
    )
    return _request(row)


async def get_request(conn: Conn, request_id: int, *, lock: bool = False) -> PolicyRequest:
    suffix = " FOR UPDATE" if lock else ""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM policy_requests WHERE id = $1{suffix}", request_id
    )
    if row is None:
        raise NotFound(f"policy request {request_id} does not exist")
    return _request(row)


async def list_requests(conn: Conn, *, pending_only: bool, limit: int = 100) -> list[PolicyRequest]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM policy_requests"
        " WHERE NOT $1::bool OR status = 'pending' ORDER BY id DESC LIMIT $2",
        pending_only,
        limit,
    )
    return [_request(r) for r in rows]


async def decide_request(
    conn: Conn, request_id: int, *, status: str, by: str, now: datetime
) -> PolicyRequest:
    row = await conn.fetchrow(
        "UPDATE policy_requests SET status = $2, decided_by = $3, decided_at = $4"
        f" WHERE id = $1 AND status = 'pending' RETURNING {_COLUMNS}",
        request_id,
        status,
        by,
        now,
    )
    if row is None:
        raise NotFound(f"policy request {request_id} is not pending")
    return _request(row)
