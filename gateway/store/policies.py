"""Policy versions (immutable), which one is enforced, which one runs in shadow.

A version's ``content`` holds the exact bytes its revision hashes
(``gateway.domain.policy_content``); files and data are read from them, never from the
JSONB copy, which normalises numbers. Versions stored before migration 0012 get their
bytes from ``backfill_content``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import msgspec
import structlog

from gateway.domain.policy_content import canonical_content, decode_content, revision_of
from gateway.domain.records import AuditEvent, PolicyState, PolicyVersion
from gateway.store._rows import AUDIT_COLUMNS, audit_from_row
from gateway.store.connection import Conn
from gateway.store.errors import Conflict, NotFound

log = structlog.get_logger(__name__)

_FIELDS = (
    "revision, files, data, author, description, parent, created_at, tests, tests_passed,"
    " tested_at, activated_at"
)
_VERSION_COLUMNS = _FIELDS + ", content"
_STATE_COLUMNS = (
    "active_revision, previous_revision, shadow_revision, activated_by, activated_at, shadow_since"
)


def _version(row: Any, *, verify: bool = True) -> PolicyVersion:
    """A version read from its content bytes, which must hash to its revision.

    Without ``verify`` (listings), a version whose bytes were lost before 0012 shows its
    JSONB copy instead of failing the whole list.
    """
    fields = {k: row[k] for k in _FIELDS.replace(" ", "").split(",")}
    content = row["content"]
    if content is None:
        if verify:
            raise Conflict(
                f"policy revision {row['revision']} was stored before revisions were kept "
                "byte for byte, and its stored copy no longer hashes to it; it cannot be "
                "enforced or replayed (see the policy_versions rows whose parent it is)"
            )
        return PolicyVersion(**fields)
    content = bytes(content)
    if revision_of(content) != row["revision"]:
        raise Conflict(f"the stored content of policy revision {row['revision']} was altered")
    decoded = decode_content(content)
    return PolicyVersion(**(fields | {"files": decoded.files, "data": decoded.data}))


async def insert_version(
    conn: Conn,
    *,
    revision: str,
    content: bytes,
    files: dict[str, str],
    data: dict[str, Any],
    author: str,
    description: str,
    parent: str | None,
) -> tuple[PolicyVersion, bool]:
    """Store a version; (version, created). The same content again returns the stored one.

    ``content`` is stored as given and must hash to ``revision``; ``files`` and ``data``
    are its readable JSONB copy.
    """
    if revision_of(content) != revision:
        raise ValueError(f"content does not hash to {revision}")
    row = await conn.fetchrow(
        "INSERT INTO policy_versions (revision, files, data, author, description, parent,"
        " content) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (revision) DO NOTHING"
        f" RETURNING {_VERSION_COLUMNS}",
        revision,
        files,
        data,
        author,
        description,
        parent,
        content,
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
    return [_version(r, verify=False) for r in rows]


async def backfill_content(conn: Conn) -> list[tuple[str, str]]:
    """Give versions stored before 0012 their content bytes; runs as the owner, at migrate.

    A version whose JSONB copy still hashes to its revision gets those bytes. One whose
    copy does not (JSONB changed a number) was enforced, and recorded on decisions, under
    the revision of the copy: that revision is stored as a version of its own (parent:
    the original) and policy_state is pointed at it. Returns (original, enforced) pairs.
    """
    rows = await conn.fetch(
        "SELECT revision, files::text AS files, data::text AS data FROM policy_versions"
        " WHERE content IS NULL ORDER BY created_at"
    )
    recovered: list[tuple[str, str]] = []
    for row in rows:
        content = canonical_content(
            msgspec.json.decode(row["files"]), msgspec.json.decode(row["data"])
        )
        enforced = revision_of(content)
        if enforced == row["revision"]:
            await conn.execute(
                "UPDATE policy_versions SET content = $2 WHERE revision = $1",
                row["revision"],
                content,
            )
            continue
        await conn.execute(
            "INSERT INTO policy_versions (revision, files, data, content, author,"
            " description, parent, created_at, tests, tests_passed, tested_at, activated_at)"
            " SELECT $2, files, data, $3, author,"
            " description || ' [as enforced: the stored form of ' || revision || ']',"
            " revision, created_at, tests, tests_passed, tested_at, activated_at"
            " FROM policy_versions WHERE revision = $1 ON CONFLICT (revision) DO NOTHING",
            row["revision"],
            enforced,
            content,
        )
        await conn.execute(
            "UPDATE policy_state SET"
            " active_revision = CASE WHEN active_revision = $1 THEN $2 ELSE active_revision END,"
            " previous_revision = CASE WHEN previous_revision = $1 THEN $2"
            "   ELSE previous_revision END,"
            " shadow_revision = CASE WHEN shadow_revision = $1 THEN $2 ELSE shadow_revision END"
            " WHERE id = 1",
            row["revision"],
            enforced,
        )
        log.warning("policy_revision_recovered", stored=row["revision"], enforced=enforced)
        recovered.append((row["revision"], enforced))
    return recovered


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


POLICY_EVENT_KINDS = (
    "policy_activated",
    "policy_change_proposed",
    "policy_change_withdrawn",
    "policy_drafted",
    "policy_rolled_back",
    "policy_shadow_started",
    "policy_shadow_stopped",
    "policy_tested",
)


async def policy_events(conn: Conn, *, limit: int = 200) -> list[AuditEvent]:
    """The latest lifecycle events of every revision (who drafted, tested, proposed,
    activated, rolled back, shadowed), newest first. Each kind is read through the
    (kind, seq) index."""
    rows = await conn.fetch(
        f"SELECT {AUDIT_COLUMNS} FROM audit_events WHERE kind = ANY($1::text[])"
        " ORDER BY seq DESC LIMIT $2",
        list(POLICY_EVENT_KINDS),
        limit,
    )
    return [audit_from_row(r) for r in rows]


async def stored_input(conn: Conn, proposal_id: int) -> tuple[int, str, str, list[str], str]:
    """One proposal's row as ``recent_inputs`` yields it (impact examples)."""
    row = await conn.fetchrow(
        "SELECT id, policy_input::text AS input, outcome, policy_revision,"
        " ARRAY(SELECT r ->> 'code' FROM jsonb_array_elements(reasons) r) AS codes"
        " FROM proposals WHERE id = $1 AND policy_input IS NOT NULL",
        proposal_id,
    )
    if row is None:
        raise NotFound(f"proposal {proposal_id} does not exist or has no stored policy input")
    return (
        row["id"],
        row["input"],
        row["outcome"],
        sorted(set(row["codes"])),
        row["policy_revision"],
    )
