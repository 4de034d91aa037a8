"""The agents' inbox: mentions filtered (claims included), newest first, with facet counts.

Each filter is one SQL fragment, so the page query ANDs them all and each facet's counts
AND all but that facet's own (the count beside "complaint" is what choosing "complaint"
would show with the other filters kept). The counts are one pass over the mentions that
match the filters on the other facets; the page reads at most ``MAX_INBOX_PAGE`` rows by
the primary key (or ``mentions_inbox_status_idx`` when filtered by status).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.domain.records import Mention
from gateway.store._rows import MENTION_COLUMNS, mention_from_row
from gateway.store.connection import Conn

MAX_INBOX_PAGE = 200
# VADER's usual thresholds: compound below -0.05 is negative, above 0.05 positive.
SENTIMENT_BUCKETS = {
    "negative": "sentiment_compound < -0.05",
    "neutral": "sentiment_compound BETWEEN -0.05 AND 0.05",
    "positive": "sentiment_compound > 0.05",
}
STATUSES = ("new", "proposed", "replied")
INTENTS = ("complaint", "question", "praise", "other")
CLAIMS = ("mine", "others", "free")


@dataclass(frozen=True, kw_only=True)
class InboxFilter:
    """What an agent asked to see; ``None`` is "any"."""

    agent: str  # whose claims are "mine"
    now: datetime
    status: str | None = None
    intent: str | None = None
    channel: str | None = None
    addressed: bool | None = None
    sentiment_above: float | None = None
    sentiment_below: float | None = None
    sentiment_bucket: str | None = None  # a key of SENTIMENT_BUCKETS
    claim: str | None = None  # "mine" | "others" | "free"
    before_id: int | None = None  # the cursor: ids below this one
    limit: int = 50


@dataclass(frozen=True, kw_only=True)
class InboxCounts:
    """For each facet, value → how many mentions choosing it would show."""

    status: dict[str, int] = field(default_factory=dict)
    intent: dict[str, int] = field(default_factory=dict)
    channel: dict[str, int] = field(default_factory=dict)
    addressed: dict[str, int] = field(default_factory=dict)
    sentiment: dict[str, int] = field(default_factory=dict)
    claim: dict[str, int] = field(default_factory=dict)
    total: int = 0  # mentions matching every filter


class _Where:
    """Numbered parameters and the fragment of each active facet."""

    def __init__(self, where: InboxFilter, *, skip: str = "") -> None:
        self.args: list[Any] = []
        self.facets: dict[str, str] = {}
        self._where = where
        self._named: dict[str, str] = {}
        for facet, column, value in (
            ("status", "status", where.status),
            ("intent", "intent", where.intent),
            ("channel", "channel", where.channel),
            ("addressed", "addressed", where.addressed),
        ):
            if value is not None and facet != skip:
                self.facets[facet] = f"{column} = {self.arg(value)}"
        parts = []
        if where.sentiment_above is not None:
            parts.append(f"sentiment_compound > {self.arg(where.sentiment_above)}::float8")
        if where.sentiment_below is not None:
            parts.append(f"sentiment_compound < {self.arg(where.sentiment_below)}::float8")
        if where.sentiment_bucket is not None:
            parts.append(SENTIMENT_BUCKETS[where.sentiment_bucket])
        if parts and skip != "sentiment":
            self.facets["sentiment"] = " AND ".join(parts)
        if where.claim is not None and skip != "claim":
            self.facets["claim"] = self.claim(where.claim)

    def claim(self, kind: str) -> str:
        """The condition for "mine", "others" or "free" (a claim lives until it expires)."""
        now = self._param("now", self._where.now, "timestamptz")
        if kind == "free":
            return f"(claimed_by IS NULL OR claim_expires_at <= {now})"
        agent = self._param("agent", self._where.agent, "text")
        live = f"claimed_by IS NOT NULL AND claim_expires_at > {now}"
        return f"({live} AND claimed_by {'=' if kind == 'mine' else '<>'} {agent})"

    def _param(self, name: str, value: Any, type_: str) -> str:
        """A parameter used by several fragments, numbered once, when first used."""
        if name not in self._named:
            self._named[name] = f"{self.arg(value)}::{type_}"
        return self._named[name]

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def all(self) -> str:
        return " AND ".join(f"({sql})" for sql in self.facets.values()) or "true"

    def all_but(self, facet: str) -> str:
        kept = [f"({sql})" for name, sql in self.facets.items() if name != facet]
        return " AND ".join(kept) or "true"


async def list_inbox(conn: Conn, where: InboxFilter) -> list[Mention]:
    """One page, newest first; at most ``MAX_INBOX_PAGE`` rows whatever was asked."""
    sql = _Where(where)
    before = sql.arg(where.before_id)
    limit = sql.arg(max(1, min(where.limit, MAX_INBOX_PAGE)))
    rows = await conn.fetch(
        f"SELECT {MENTION_COLUMNS} FROM mentions"
        f" WHERE ({before}::bigint IS NULL OR id < {before}) AND {sql.all()}"
        f" ORDER BY id DESC LIMIT {limit}",
        *sql.args,
    )
    return [mention_from_row(r, now=where.now) for r in rows]


async def inbox_counts(conn: Conn, where: InboxFilter) -> InboxCounts:
    """Counts per facet value under the other facets' filters, in one pass."""
    sql = _Where(where)
    selects: list[str] = [f"count(*) FILTER (WHERE {sql.all()}) AS total"]
    keys: list[tuple[str, str]] = []

    def add(facet: str, value: str, condition: str) -> None:
        keys.append((facet, value))
        selects.append(f"count(*) FILTER (WHERE {sql.all_but(facet)} AND {condition})")

    for status in STATUSES:
        add("status", status, f"status = '{status}'")
    for intent in INTENTS:
        add("intent", intent, f"intent = '{intent}'")
    for value in ("true", "false"):
        add("addressed", value, f"addressed = {value}")
    for bucket, condition in SENTIMENT_BUCKETS.items():
        add("sentiment", bucket, condition)
    for claim in CLAIMS:
        add("claim", claim, sql.claim(claim))
    row = await conn.fetchrow(f"SELECT {', '.join(selects)} FROM mentions", *sql.args)
    assert row is not None
    counts = InboxCounts(total=row["total"])
    for index, (facet, value) in enumerate(keys, start=1):
        getattr(counts, facet)[value] = row[index]
    by_channel = _Where(where, skip="channel")  # numbered anew: only the parameters it uses
    channel_rows = await conn.fetch(
        f"SELECT channel, count(*) AS n FROM mentions WHERE {by_channel.all_but('channel')}"
        " GROUP BY channel ORDER BY channel LIMIT 100",
        *by_channel.args,
    )
    counts.channel.update({r["channel"]: r["n"] for r in channel_rows})
    return counts


async def opted_out_among(conn: Conn, customers: list[tuple[str, str, str | None]]) -> list[bool]:
    """For (channel, canonical identity, suppression key) triples, whether each customer
    counts as opted out: the same test as ``proposals.customer_history`` (an active opt-out,
    or a suppression record after erasure)."""
    if not customers:
        return []
    rows = await conn.fetch(
        "SELECT c.i, EXISTS (SELECT 1 FROM opt_outs o WHERE o.channel = c.channel"
        "  AND o.handle = c.handle AND o.removed_at IS NULL)"
        " OR EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = c.channel"
        "  AND s.customer_key = c.key) AS opted_out"
        " FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY"
        "  AS c(channel, handle, key, i) ORDER BY c.i",
        [c[0] for c in customers],
        [c[1] for c in customers],
        [c[2] for c in customers],
    )
    return [bool(r["opted_out"]) for r in rows]
