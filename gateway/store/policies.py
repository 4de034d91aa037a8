"""Policy versions (immutable), which one is enforced, which one runs in shadow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from gateway.domain.records import PolicyState, PolicyVersion
from gateway.store.connection import Conn
from gateway.store.errors import NotFound

_VERSION_COLUMNS = (
    "revision, files, data, author, description, parent, created_at, tests, tests_passed,"
    " tested_at, activated_at"
)
_STATE_COLUMNS = (
    "active_revision, previous_revision, shadow_revision, activated_by, activated_at, shadow_since"
)


def _version(row: Any) -> PolicyVersion:
    return PolicyVersion(**{k: row[k] for k in _VERSION_COLUMNS.replace(" ", "").split(",")})


async def insert_version(
    conn: Conn,
    *,
    revision: str,
    files: dict[str, str],
    data: dict[str, Any],
    author: str,
    description: str,
    parent: str | None,
) -> tuple[PolicyVersion, bool]:
    """Store a version; (version, created). The same content again returns the stored one."""
    row = await conn.fetchrow(
        "INSERT INTO policy_versions (revision, files, data, author, description, parent)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (revision) DO NOTHING"
        f" RETURNING {_VERSION_COLUMNS}",
        revision,
        files,
        data,
        author,
        description,
        parent,
    )
    if row is not None:
        return _version(row), True
    return await get_version(conn, revision), False


async def get_version(conn: Conn, revision: str) -> PolicyVersion:
    row = await conn.fetchrow(
        f"SELECT {_VERSION_COLUMNS} FROM policy_versions WHERE revision = $1", revision
    )
    if row is None:
        raise NotFound(f"policy revision {revision} does not exist")
    return _version(row)


async def list_versions(conn: Conn, *, limit: int = 100) -> list[PolicyVersion]:
    rows = await conn.fetch(
        f"SELECT {_VERSION_COLUMNS} FROM policy_versions ORDER BY created_at DESC LIMIT $1",
        limit,
    )
    return [_version(r) for r in rows]


async def record_tests(
    conn: Conn, revision: str, *, report: dict[str, Any], passed: bool, now: datetime
) -> None:
    await conn.execute(
        "UPDATE policy_versions SET tests = $2, tests_passed = $3, tested_at = $4"
        " WHERE revision = $1",
        revision,
        report,
        passed,
        now,
    )


async def get_state(conn: Conn, *, lock: bool = False) -> PolicyState:
    suffix = " FOR UPDATE" if lock else ""
    row = await conn.fetchrow(f"SELECT {_STATE_COLUMNS} FROM policy_state WHERE id = 1{suffix}")
    assert row is not None
    return PolicyState(**{k: row[k] for k in _STATE_COLUMNS.replace(" ", "").split(",")})


async def set_active(conn: Conn, revision: str, *, by: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE policy_state SET previous_revision = active_revision, active_revision = $1,"
        " activated_by = $2, activated_at = $3,"
        " shadow_revision = CASE WHEN shadow_revision = $1 THEN NULL ELSE shadow_revision END"
        " WHERE id = 1",
        revision,
        by,
        now,
    )
    await conn.execute(
        "UPDATE policy_versions SET activated_at = coalesce(activated_at, $2) WHERE revision = $1",
        revision,
        now,
    )


async def set_shadow(conn: Conn, revision: str | None, *, now: datetime) -> None:
    await conn.execute(
        "UPDATE policy_state SET shadow_revision = $1,"
        " shadow_since = CASE WHEN $1::text IS NULL THEN NULL ELSE $2::timestamptz END"
        " WHERE id = 1",
        revision,
        now,
    )


async def recent_inputs(
    conn: Conn,
    *,
    limit: int | None,
    since: datetime | None,
    until: datetime | None,
    batch: int = 5_000,
) -> AsyncIterator[list[tuple[int, str, str, list[str], str]]]:
    """(proposal id, policy input JSON text, recorded outcome, recorded reason codes,
    recorded policy revision) of the most recent proposals, newest first, in batches."""
    before = 2**62
    remaining = limit if limit is not None else 2**62
    while remaining > 0:
        rows = await conn.fetch(
            "SELECT id, policy_input::text AS input, outcome, policy_revision,"
            " ARRAY(SELECT r ->> 'code' FROM jsonb_array_elements(reasons) r) AS codes"
            " FROM proposals WHERE id < $1 AND policy_input IS NOT NULL"
            " AND ($2::timestamptz IS NULL OR created_at >= $2)"
            " AND ($3::timestamptz IS NULL OR created_at < $3)"
            " ORDER BY id DESC LIMIT $4",
            before,
            since,
            until,
            min(batch, remaining),
        )
        if not rows:
            return
        yield [
            (r["id"], r["input"], r["outcome"], sorted(set(r["codes"])), r["policy_revision"])
            for r in rows
        ]
        remaining -= len(rows)
        before = rows[-1]["id"]


async def shadow_pairs(
    conn: Conn, revision: str, *, limit: int = 100_000
) -> list[tuple[int, str, str, list[str], list[str]]]:
    """(proposal id, enforced outcome, shadow outcome, enforced codes, shadow codes)."""
    rows = await conn.fetch(
        "SELECT id, outcome, shadow ->> 'outcome' AS shadow_outcome,"
        " ARRAY(SELECT r ->> 'code' FROM jsonb_array_elements(reasons) r) AS codes,"
        " ARRAY(SELECT r ->> 'code' FROM jsonb_array_elements(shadow -> 'reasons') r)"
        "   AS shadow_codes"
        " FROM proposals WHERE shadow ->> 'policy_revision' = $1 ORDER BY id DESC LIMIT $2",
        revision,
        limit,
    )
    return [
        (r["id"], r["outcome"], r["shadow_outcome"], list(r["codes"]), list(r["shadow_codes"]))
        for r in rows
    ]
