"""What the release worker reads to re-check a batch of claimed replies: each reply's
mention and its proposer's current role, for the whole batch in one round trip.

The customers' contact facts (contacts, thread, opt-out, suppression) come from
:func:`gateway.store.proposals.contact_facts`, the same counting the decisions use, in one
more round trip for the batch.
"""

from __future__ import annotations

from datetime import datetime

from gateway.domain.records import Mention, Proposal
from gateway.store._rows import MENTION_COLUMNS, mention_from_row
from gateway.store.connection import Conn
from gateway.store.errors import NotFound

# One row per proposal, in the order given; the role is NULL when the proposer's account
# is gone or disabled (the re-check then takes the least privileged role).
_READ = (
    f"SELECT q.ord, {MENTION_COLUMNS},"
    " (SELECT u.role FROM users u WHERE u.name = q.agent AND u.disabled_at IS NULL)"
    "  AS agent_role"
    " FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS q(mention_id, agent, ord)"
    " JOIN mentions ON mentions.id = q.mention_id ORDER BY q.ord"
)


async def mentions_and_roles(
    conn: Conn, batch: list[Proposal], *, now: datetime
) -> list[tuple[Mention, str | None]]:
    """Each proposal's mention (as of ``now``, for its claim) and its proposer's role
    (None: no active account), in the order given; NotFound if a mention is missing."""
    if not batch:
        return []
    rows = await conn.fetch(_READ, [p.mention_id for p in batch], [p.agent for p in batch])
    if len(rows) != len(batch):
        found = {int(r["id"]) for r in rows}
        missing = sorted({p.mention_id for p in batch} - found)
        raise NotFound(f"mentions {missing} of proposals being released do not exist")
    return [(mention_from_row(r, now=now), r["agent_role"]) for r in rows]
