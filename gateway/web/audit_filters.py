"""The audit log's filter form: read from the query string, checked, and written back
into links (the pager, the evidence download) so they keep the filter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request

from gateway.pipeline.log_search import LogFilter

FIELDS = ("since", "until", "kind", "actor", "customer", "channel", "outcome", "reason", "revision")
_MAX = 500


class FilterForm(msgspec.Struct, frozen=True, kw_only=True):
    values: dict[str, str]  # as typed, for the form
    where: LogFilter
    errors: list[str]

    def query(self, **extra: str | int) -> str:
        """``?k=v&...`` of the filter (and ``extra``), '' when there is nothing to say."""
        pairs = [(k, v) for k, v in self.values.items() if v]
        pairs += [(k, str(v)) for k, v in extra.items()]
        return f"?{urlencode(pairs)}" if pairs else ""


def parse_time(field: str, text: str, errors: list[str]) -> datetime | None:
    """A time from an ``<input type="datetime-local">`` (or ISO 8601); UTC when no offset."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        errors.append(f"{field}: {text[:40]!r} is not a date and time (YYYY-MM-DD HH:MM, UTC)")
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def read_filter(request: Request[Any, Any, Any]) -> FilterForm:
    errors: list[str] = []
    values = {f: str(request.query_params.get(f) or "").strip()[:_MAX] for f in FIELDS}
    times = {f: parse_time(f, values[f], errors) for f in ("since", "until")}
    where = LogFilter(
        since=times["since"],
        until=times["until"],
        **{f: values[f] or None for f in FIELDS if f not in ("since", "until")},
    )
    return FilterForm(values=values, where=where, errors=errors)
