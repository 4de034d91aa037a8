"""Proposals (proposed replies), the customer's contact history, and their state changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from gateway.domain.records import CustomerHistory, Proposal
from gateway.store._rows import PROPOSAL_COLUMNS, proposal_from_row
from gateway.store.connection import Conn
from gateway.store.errors import Conflict, NotFound, Unavailable

CONTACT_STATES = ("approved", "released")


async def lock_contacts(conn: Conn, *, channel: str, handle: str, thread_id: str) -> None:
    """Serialise contact decisions for this customer and this thread until the
    transaction ends (transaction-scoped advisory locks).

    Whoever holds them re-reads the counts (``customer_history``) and sees every contact
    committed before it, and, within one group-commit batch, every earlier job of the
    batch, so no two decisions can both take the last place under a cap. The two locks
    are taken in one fixed order; a deadlock between two gateway instances' batches is
    reported as Unavailable (try again), never as a decision.
    """
    keys = sorted(
        {
            f"contacts:customer:{channel}:{handle}",  # the canonical identity
            f"contacts:thread:{channel}:{thread_id}",
        }
    )
    try:
        # unnest yields the keys in array order, so the locks are taken in sorted order.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest($1::text[]) AS key",
            keys,
        )
    except asyncpg.exceptions.DeadlockDetectedError as exc:
        raise Unavailable(f"contact decisions collided; try again ({exc})") from exc


async def customer_history(
    conn: Conn,
    *,
    channel: str,
    handle: str,
    thread_id: str,
    now: datetime,
    exclude_proposal: int | None = None,
    suppression_key: str | None = None,
) -> CustomerHistory:
    """The facts the policy needs about a customer, as of ``now``.

    A contact is a reply allowed or approved for release (queued or delivered). The
    proposal being released is excluded so its own approval is not counted against it.
    ``handle`` is the canonical identity; the customer counts as opted out while an
    opt-out is active or a suppression record has ``suppression_key`` (after erasure).
    """
    customer = handle  # the canonical identity
    # One round trip: contacts in the windows, the opt-out, and the thread's state.
    row = await conn.fetchrow(
        "WITH contacts AS ("
        "  SELECT"
        "   count(*) FILTER (WHERE approved_at > $3::timestamptz - interval '24 hours') AS c24,"
        "   count(*) FILTER (WHERE approved_at > $3::timestamptz - interval '7 days') AS c7,"
        "   count(*) AS c30, max(approved_at) AS last_contact"
        "  FROM proposals WHERE channel = $1 AND customer_handle = $2"
        "  AND status IN ('approved', 'released')"
        "  AND approved_at > $3::timestamptz - interval '30 days' AND approved_at <= $3"
        "  AND id <> coalesce($4, -1)),"
        " thread AS ("
        "  SELECT count(*) AS replies, max(approved_at) AS last_reply FROM proposals"
        "  WHERE channel = $1 AND thread_id = $5 AND status IN ('approved', 'released')"
        "  AND id <> coalesce($4, -1))"
        " SELECT contacts.*, thread.replies,"
        "  EXISTS (SELECT 1 FROM opt_outs WHERE channel = $1 AND handle = $2"
        "          AND removed_at IS NULL)"
        "  OR EXISTS (SELECT 1 FROM suppressions WHERE channel = $1 AND customer_key = $6)"
        "  AS opted_out,"
        "  (thread.last_reply IS NULL OR EXISTS (SELECT 1 FROM mentions"
        "     WHERE channel = $1 AND thread_id = $5 AND customer_id = $2"
        "     AND created_at > thread.last_reply)) AS replied_since"
        " FROM contacts, thread",
        channel,
        customer,
        now,
        exclude_proposal,
        thread_id,
        suppression_key,
    )
    assert row is not None
    return CustomerHistory(
        opted_out=row["opted_out"],
        contacts_24h=row["c24"],
        contacts_7d=row["c7"],
        contacts_30d=row["c30"],
        last_contact_at=row["last_contact"],
        thread_replies=row["replies"],
        replied_since_last_contact=row["replied_since"],
    )


async def insert_proposal(
    conn: Conn,
    *,
    mention_id: int,
    channel: str,
    customer_handle: str,
    thread_id: str,
    agent: str,
    text: str,
    ai_generated: bool,
    status: str,
    outcome: str,
    reasons: list[dict[str, Any]],
    policy_revision: str,
    idempotency_key: str,
    now: datetime,
    policy_input: dict[str, Any] | None = None,
    shadow: dict[str, Any] | None = None,
    proposal_id: int | None = None,
    audit_seq: int | None = None,
) -> Proposal:
    """Store a proposal (with a reserved id and its audit seq when given)."""
    approved_at = now if status == "approved" else None
    row = await conn.fetchrow(
        "INSERT INTO proposals (mention_id, channel, customer_handle, thread_id, agent, text,"
        " ai_generated, status, outcome, reasons, policy_revision, idempotency_key,"
        " approved_at, created_at, updated_at, policy_input, shadow, id, audit_seq)"
        " OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
        " $13, $14, $14, $15, $16,"
        " coalesce($17, nextval(pg_get_serial_sequence('proposals', 'id'))), $18)"
        f" RETURNING {PROPOSAL_COLUMNS}",
        mention_id,
        channel,
        customer_handle,
        thread_id,
        agent,
        text,
        ai_generated,
        status,
        outcome,
        reasons,
        policy_revision,
        idempotency_key,
        approved_at,
        now,
        policy_input,
        shadow,
        proposal_id,
        audit_seq,
    )
    assert row is not None
    return proposal_from_row(row)


async def reserve_proposal_id(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT nextval(pg_get_serial_sequence('proposals', 'id'))"))


async def get_proposal(conn: Conn, proposal_id: int) -> Proposal:
    row = await conn.fetchrow(
        f"SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE id = $1", proposal_id
    )
    if row is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    return proposal_from_row(row)


async def lock_proposal(conn: Conn, proposal_id: int) -> Proposal:
    row = await conn.fetchrow(
        f"SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE id = $1 FOR UPDATE", proposal_id
    )
    if row is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    return proposal_from_row(row)


async def list_proposals(
    conn: Conn,
    *,
    status: str | None = None,
    agent: str | None = None,
    mention_id: int | None = None,
    after_id: int = 0,
    limit: int = 50,
) -> list[Proposal]:
    rows = await conn.fetch(
        f"SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE id > $1"
        " AND ($2::text IS NULL OR status = $2)"
        " AND ($3::text IS NULL OR agent = $3)"
        " AND ($4::bigint IS NULL OR mention_id = $4)"
        " ORDER BY id LIMIT $5",
        after_id,
        status,
        agent,
        mention_id,
        limit,
    )
    return [proposal_from_row(r) for r in rows]


async def list_agent_proposals(
    conn: Conn, *, agent: str, status: str | None = None, limit: int = 50
) -> list[Proposal]:
    """One agent's proposals, newest first (``proposals_agent_idx``)."""
    rows = await conn.fetch(
        f"SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE agent = $1"
        " AND ($2::text IS NULL OR status = $2) ORDER BY id DESC LIMIT $3",
        agent,
        status,
        limit,
    )
    return [proposal_from_row(r) for r in rows]


async def transition(
    conn: Conn,
    proposal_id: int,
    *,
    from_states: tuple[str, ...],
    to_state: str,
    now: datetime,
    reviewed_by: str | None = None,
    review_note: str | None = None,
    receipt: dict[str, Any] | None = None,
) -> Proposal:
    """Move a proposal from one of ``from_states`` to ``to_state``, or raise Conflict."""
    row = await conn.fetchrow(
        "UPDATE proposals SET status = $3, updated_at = $4,"
        " approved_at = CASE WHEN $3 = 'approved' THEN $4 ELSE approved_at END,"
        " reviewed_by = coalesce($5, reviewed_by), review_note = coalesce($6, review_note),"
        " receipt = coalesce($7, receipt)"
        f" WHERE id = $1 AND status = ANY($2::text[]) RETURNING {PROPOSAL_COLUMNS}",
        proposal_id,
        list(from_states),
        to_state,
        now,
        reviewed_by,
        review_note,
        receipt,
    )
    if row is not None:
        return proposal_from_row(row)
    current = await get_proposal(conn, proposal_id)
    raise Conflict(
        f"proposal {proposal_id} is {current.status}; it can only become {to_state} "
        f"from {' or '.join(from_states)}"
    )


async def released_external_ids(conn: Conn, external_ids: list[str]) -> set[str]:
    """Which of these channel ids are replies we released (their receipts name them)."""
    rows = await conn.fetch(
        "SELECT receipt ->> 'external_id' AS external_id FROM proposals"
        " WHERE status = 'released' AND receipt ->> 'external_id' = ANY($1::text[])",
        external_ids,
    )
    return {r["external_id"] for r in rows}


async def count_pending_review(conn: Conn) -> int:
    """How many replies wait for a compliance officer (the console's badge)."""
    return int(
        await conn.fetchval("SELECT count(*) FROM proposals WHERE status = 'pending_review'")
    )


async def thread_proposals(
    conn: Conn, *, channel: str, thread_id: str, other_than: int, limit: int = 20
) -> list[Proposal]:
    """The latest replies proposed in a thread besides ``other_than``, oldest first."""
    rows = await conn.fetch(
        f"SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE channel = $1 AND thread_id = $2"
        " AND id <> $3 ORDER BY id DESC LIMIT $4",
        channel,
        thread_id,
        other_than,
        limit,
    )
    return [proposal_from_row(r) for r in reversed(rows)]


async def lock_proposals(conn: Conn, proposal_ids: list[int]) -> dict[int, Proposal]:
    """Lock proposals by id (in id order, so two batches never deadlock); missing ids are
    absent from the answer."""
    rows = await conn.fetch(
        f"SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE id = ANY($1::bigint[])"
        " ORDER BY id FOR UPDATE",
        proposal_ids,
    )
    found = [proposal_from_row(row) for row in rows]
    return {proposal.id: proposal for proposal in found}


async def mark_released(conn: Conn, receipts: list[tuple[int, str]], *, now: datetime) -> set[int]:
    """Move approved proposals to ``released`` with their receipts (JSON text), in one
    statement; the ids moved (a proposal no longer approved is left as it is)."""
    rows = await conn.fetch(
        "UPDATE proposals SET status = 'released', updated_at = $3, receipt = d.receipt::jsonb"
        " FROM unnest($1::bigint[], $2::text[]) AS d(id, receipt)"
        " WHERE proposals.id = d.id AND proposals.status = 'approved' RETURNING proposals.id",
        [proposal_id for proposal_id, _ in receipts],
        [receipt for _, receipt in receipts],
        now,
    )
    return {int(row["id"]) for row in rows}
