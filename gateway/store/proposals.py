"""Proposals (proposed replies), the customer's contact history, and their state changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from gateway.domain.records import ContactFacts, CustomerHistory, Mention, Proposal
from gateway.store._rows import (
    MENTION_COLUMNS,
    PROPOSAL_COLUMNS,
    mention_from_row,
    proposal_from_row,
)
from gateway.store.connection import Conn
from gateway.store.errors import Conflict, NotFound, Unavailable

CONTACT_STATES = ("approved", "released")


def contact_lock_keys(*, channel: str, handle: str, thread_id: str) -> list[str]:
    """The advisory lock keys of one contact decision: its customer and its thread."""
    return [
        f"contacts:customer:{channel}:{handle}",  # the canonical identity
        f"contacts:thread:{channel}:{thread_id}",
    ]


async def lock_contacts(conn: Conn, *, channel: str, handle: str, thread_id: str) -> None:
    """Serialise contact decisions for this customer and this thread until the
    transaction ends (transaction-scoped advisory locks).

    Whoever holds them re-reads the counts (``customer_history``) and sees every contact
    committed before it, and, within one group-commit batch, every earlier job of the
    batch, so no two decisions can both take the last place under a cap.
    """
    await lock_contact_keys(
        conn, contact_lock_keys(channel=channel, handle=handle, thread_id=thread_id)
    )


async def lock_contact_keys(conn: Conn, keys: list[str]) -> None:
    """Take the contact locks ``keys`` (a whole batch's) in one statement, in one fixed
    (sorted) order, so that two batches or instances wait for each other instead of
    deadlocking; a deadlock with some other locker is reported as Unavailable (try
    again), never as a decision."""
    try:
        # unnest yields the keys in array order, so the locks are taken in sorted order.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest($1::text[]) AS key",
            sorted(set(keys)),
        )
    except asyncpg.exceptions.DeadlockDetectedError as exc:
        raise Unavailable(f"contact decisions collided; try again ({exc})") from exc


class HistoryQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Whose contact history to read: ``handle`` is the canonical identity;
    ``suppression_key`` the customer's suppression key (None: not computable)."""

    channel: str
    handle: str
    thread_id: str
    suppression_key: str | None = None
    exclude_proposal: int | None = None


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
    query = HistoryQuery(
        channel=channel,
        handle=handle,
        thread_id=thread_id,
        suppression_key=suppression_key,
        exclude_proposal=exclude_proposal,
    )
    [facts] = await contact_facts(conn, [query], now=now)
    return facts.history()


def _facts_sql(now: str) -> str:
    """The contact facts of every row of ``q`` (channel, handle, thread_id, skey, exclude,
    ord) as of the timestamptz parameter ``now``.

    The customer's contacts are read in ``approved_at`` order, which only
    ``proposals_customer_idx`` gives: without it, statistics taken while the table was
    nearly empty (a new deployment, any benchmark) made the planner pick the thread index
    and filter every proposal of the channel, for each decision (tested in
    tests/integration/test_contact_facts_plans.py; the same holds in migration 0023)."""
    return (
        "SELECT q.ord, c.c24, c.c7, c.c30, c.last_contact, t.replies, t.last_reply,"
        "  (SELECT max(m.created_at) FROM mentions m WHERE m.channel = q.channel"
        "   AND m.thread_id = q.thread_id AND m.customer_id = q.handle) AS last_mention,"
        "  EXISTS (SELECT 1 FROM opt_outs o WHERE o.channel = q.channel AND o.handle = q.handle"
        "          AND o.removed_at IS NULL)"
        "  OR EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = q.channel"
        "             AND s.customer_key = q.skey) AS opted_out,"
        "  EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = q.channel)"
        "  AS channel_suppressions"
        " FROM q CROSS JOIN LATERAL (SELECT"
        f"   count(*) FILTER (WHERE p.approved_at > {now} - interval '24 hours') AS c24,"
        f"   count(*) FILTER (WHERE p.approved_at > {now} - interval '7 days') AS c7,"
        "   count(*) AS c30, max(p.approved_at) AS last_contact"
        "  FROM (SELECT p.approved_at FROM proposals p"
        "   WHERE p.channel = q.channel AND p.customer_handle = q.handle"
        "   AND p.status IN ('approved', 'released')"
        f"   AND p.approved_at > {now} - interval '30 days' AND p.approved_at <= {now}"
        "   AND p.id <> coalesce(q.exclude, -1) ORDER BY p.approved_at) AS p) AS c"
        " CROSS JOIN LATERAL (SELECT count(*) AS replies, max(p.approved_at) AS last_reply"
        "  FROM proposals p WHERE p.channel = q.channel AND p.thread_id = q.thread_id"
        "  AND p.status IN ('approved', 'released') AND p.id <> coalesce(q.exclude, -1)) AS t"
    )


# The facts of a batch of queries ($1..$5 arrays, $6 the time) as CTE ``f``.
_FACTS_CTE = (
    "WITH q AS (SELECT * FROM"
    " unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])"
    "  WITH ORDINALITY AS q(channel, handle, thread_id, skey, exclude, ord)), f AS ("
    + _facts_sql("$6::timestamptz")
    + ")"
)
_FACTS = _FACTS_CTE + " SELECT * FROM f ORDER BY ord"

# The mention and its customer's facts in one round trip: what a decision reads first.
_MENTION_FACTS = (
    "WITH q AS (SELECT channel, coalesce(customer_id, author_handle) AS handle, thread_id,"
    " customer_key AS skey, NULL::bigint AS exclude, 1::bigint AS ord"
    " FROM mentions WHERE id = $1), f AS ("
    + _facts_sql("$2::timestamptz")
    + f") SELECT {MENTION_COLUMNS}, f.* FROM mentions, f WHERE mentions.id = $1"
)


def facts_from_row(r: asyncpg.Record) -> ContactFacts:
    return ContactFacts(
        opted_out=r["opted_out"],
        contacts_24h=r["c24"],
        contacts_7d=r["c7"],
        contacts_30d=r["c30"],
        last_contact_at=r["last_contact"],
        thread_replies=r["replies"],
        thread_last_reply_at=r["last_reply"],
        last_mention_in_thread_at=r["last_mention"],
    )


class MentionFacts(msgspec.Struct, frozen=True, kw_only=True):
    """A mention and its customer's contact facts, read together. The suppression check
    used the key kept on the mention (an erased customer's); ``channel_suppressions``
    says whether the channel has any suppression record at all, i.e. whether a key
    computed from the customer's identity still needs checking (``is_suppressed``)."""

    mention: Mention
    facts: ContactFacts
    channel_suppressions: bool


async def mention_facts(conn: Conn, mention_id: int, *, now: datetime) -> MentionFacts:
    """Everything a decision reads about a mention (the mention, its claim, the customer's
    contacts, thread, opt-out and suppression) in one round trip; NotFound if missing."""
    row = await conn.fetchrow(_MENTION_FACTS, mention_id, now)
    if row is None:
        raise NotFound(f"mention {mention_id} does not exist")
    return MentionFacts(
        mention=mention_from_row(row, now=now),
        facts=facts_from_row(row),
        channel_suppressions=row["channel_suppressions"],
    )


async def contact_facts(
    conn: Conn, queries: list[HistoryQuery], *, now: datetime
) -> list[ContactFacts]:
    """The contact facts of each query as of ``now`` (in the order given), in one round
    trip: contacts in the windows, the thread's replies, the opt-out or suppression."""
    if not queries:
        return []
    rows = await conn.fetch(
        _FACTS,
        [q.channel for q in queries],
        [q.handle for q in queries],
        [q.thread_id for q in queries],
        [q.suppression_key for q in queries],
        [q.exclude_proposal for q in queries],
        now,
    )
    return [facts_from_row(r) for r in rows]


class NewProposal(msgspec.Struct, frozen=True, kw_only=True):
    """A decided proposal to store, with its reserved id and its decision event's seq."""

    id: int
    audit_seq: int
    mention_id: int
    channel: str
    customer_handle: str
    thread_id: str
    agent: str
    text: str
    ai_generated: bool
    status: str
    outcome: str
    reasons: list[dict[str, Any]]
    policy_revision: str
    idempotency_key: str
    now: datetime
    policy_input: dict[str, Any] | None = None
    shadow: dict[str, Any] | None = None


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


async def count_pending_review(conn: Conn, *, after_id: int = 0) -> int:
    """How many replies wait for a compliance officer (those after ``after_id``)."""
    value = await conn.fetchval(
        "SELECT count(*) FROM proposals WHERE status = 'pending_review' AND id > $1", after_id
    )
    return int(value)


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


async def newest_pending_review_id(conn: Conn) -> int:
    """The id of the latest reply waiting for review (0: none waits)."""
    value = await conn.fetchval(
        "SELECT coalesce(max(id), 0) FROM proposals WHERE status = 'pending_review'"
    )
    return int(value)
