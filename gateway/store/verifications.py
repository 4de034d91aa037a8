"""The record of each verification of the audit log (who, when, what it found)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from gateway.store.connection import Conn

_COLUMNS = (
    "verified_at, verified_by, ok, events, checkpoints_verified, anchored, unanchored,"
    " first_bad_seq, problems"
)


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    """One verification of the chain and its signed checkpoints.

    ``anchored`` events are covered by a signed checkpoint that matched; ``unanchored`` ones
    came after the latest checkpoint (normal for a live log: the checkpointer signs every N
    events or T seconds). ``problems`` are sentences a person can act on; ``ok`` when none.
    """

    verified_at: datetime
    verified_by: str
    ok: bool
    events: int
    checkpoints_verified: int
    anchored: int
    unanchored: int
    first_bad_seq: int | None
    problems: list[str]


def _verification(row: Any) -> Verification:
    return Verification(
        verified_at=row["verified_at"],
        verified_by=row["verified_by"],
        ok=row["ok"],
        events=int(row["events"]),
        checkpoints_verified=int(row["checkpoints_verified"]),
        anchored=int(row["anchored"]),
        unanchored=int(row["unanchored"]),
        first_bad_seq=row["first_bad_seq"],
        problems=[str(p) for p in row["problems"]],
    )


async def record(conn: Conn, result: Verification) -> None:
    await conn.execute(
        f"INSERT INTO audit_verifications ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        result.verified_at,
        result.verified_by,
        result.ok,
        result.events,
        result.checkpoints_verified,
        result.anchored,
        result.unanchored,
        result.first_bad_seq,
        result.problems,
    )


async def latest(conn: Conn) -> Verification | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM audit_verifications ORDER BY id DESC LIMIT 1"
    )
    return _verification(row) if row is not None else None
