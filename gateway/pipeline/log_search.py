"""Searching the audit log: the filters auditors use, checked, and one page of events.

The API (``GET /v1/audit/events``) and the console's audit log both call ``search_log``
with a ``LogFilter``; a filter that makes no sense is ``InvalidInput`` naming the field
(a 400, or a message on the page), never an empty result that looks like "nothing there".
"""

from __future__ import annotations

import re
from datetime import datetime

import asyncpg
import msgspec

from gateway.audit.subjects import opened
from gateway.domain.identity import ANY_CHANNEL, canonical_id
from gateway.domain.records import AuditEvent
from gateway.pipeline.errors import InvalidInput
from gateway.store import identities
from gateway.store.audit import get_event
from gateway.store.audit_search import MAX_PAGE, AuditQuery, distinct_values, search_events
from gateway.store.connection import Conn
from gateway.store.subjects import subject_ids_of

OUTCOMES = ("allow", "review", "deny")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_CHARS = 200


class LogFilter(msgspec.Struct, frozen=True, kw_only=True):
    """What an auditor filters by; empty strings and None mean "any"."""

    since: datetime | None = None
    until: datetime | None = None
    kind: str | None = None
    actor: str | None = None
    customer: str | None = None  # any spelling of a handle, on any channel
    channel: str | None = None
    outcome: str | None = None
    reason: str | None = None  # a reason code, e.g. opted_out
    revision: str | None = None  # a policy revision (content hash)


class LogPage(msgspec.Struct, frozen=True, kw_only=True):
    """Events newest first; ``next_before`` is the ``before`` of the next page (None: last)."""

    items: list[AuditEvent]
    next_before: int | None


def _text(field: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _CONTROL.search(value):
        raise InvalidInput(f"{field} contains a control character")
    if len(value) > _MAX_CHARS:
        raise InvalidInput(f"{field} is {len(value)} characters long; at most {_MAX_CHARS}")
    return value


async def to_query(conn: Conn, where: LogFilter) -> AuditQuery:
    """The store query for ``where``: checked, and a customer resolved to their subjects."""
    since, until = where.since, where.until
    if since is not None and until is not None and since >= until:
        raise InvalidInput(
            f"since ({since.isoformat()}) must be before until ({until.isoformat()})"
        )
    outcome = _text("outcome", where.outcome)
    if outcome is not None and outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    customer = _text("customer", where.customer)
    subject_ids = None
    if customer is not None:
        spelled = canonical_id(ANY_CHANNEL, customer, field="customer")
        # A customer never seen has no subject: the filter then matches nothing, correctly.
        subject_ids = await subject_ids_of(conn, await identities.candidates(conn, spelled))
    return AuditQuery(
        since=since,
        until=until,
        kind=_text("kind", where.kind),
        actor=_text("actor", where.actor),
        subject_ids=subject_ids,
        channel=_text("channel", where.channel),
        outcome=outcome,
        reason=_text("reason", where.reason),
        policy_revision=_text("revision", where.revision),
    )


async def search_log(
    pool: asyncpg.Pool, where: LogFilter, *, before: int | None = None, limit: int = 50
) -> LogPage:
    """One page of matching events, newest first, personal fields opened where the
    customer's key remains (``[erased]`` otherwise)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}, not {limit}")
    if before is not None and before < 1:
        raise InvalidInput(f"before must be a positive event number, not {before}")
    async with pool.acquire() as conn:
        query = await to_query(conn, where)
        # One more than asked tells whether another page follows.
        found = await search_events(conn, query, before_seq=before, limit=limit + 1)
        items = await opened(conn, found[:limit])
    return LogPage(items=items, next_before=items[-1].seq if len(found) > limit else None)


def described(where: LogFilter, query: AuditQuery) -> dict[str, str | list[str]]:
    """The filter as a bundle records it: the fields set, times in UTC, and a customer as
    their pseudonymous subject ids (a handle is personal data; erasure must reach it)."""
    shown: dict[str, str | list[str]] = {}
    for field in ("since", "until"):
        value = getattr(query, field)
        if value is not None:
            shown[field] = value.isoformat()
    for field, value in (
        ("kind", query.kind),
        ("actor", query.actor),
        ("channel", query.channel),
        ("outcome", query.outcome),
        ("reason", query.reason),
        ("revision", query.policy_revision),
    ):
        if value is not None:
            shown[field] = value
    if query.subject_ids is not None:
        shown["customer_subject_ids"] = sorted(query.subject_ids)
    return shown


async def selection_for(
    pool: asyncpg.Pool, where: LogFilter
) -> tuple[AuditQuery, dict[str, str | list[str]]] | None:
    """What ``build_evidence`` takes for a bundle of ``where`` (None: no filter, the
    whole log)."""
    async with pool.acquire() as conn:
        query = await to_query(conn, where)
    shown = described(where, query)
    return (query, shown) if shown else None


class FilterChoices(msgspec.Struct, frozen=True, kw_only=True):
    """Values the log holds, for the console's filter menus."""

    kinds: list[str]
    actors: list[str]


async def filter_choices(pool: asyncpg.Pool) -> FilterChoices:
    async with pool.acquire() as conn:
        return FilterChoices(
            kinds=await distinct_values(conn, "kind"), actors=await distinct_values(conn, "actor")
        )


async def event_detail(pool: asyncpg.Pool, seq: int) -> AuditEvent:
    """One event, personal fields opened where the key remains (NotFound if none)."""
    async with pool.acquire() as conn:
        [event] = await opened(conn, [await get_event(conn, seq)])
    return event
