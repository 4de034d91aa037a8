"""The time window of the dashboard and the report pages: two dates in the query string."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request


def read_window(
    request: Request[Any, Any, Any],
) -> tuple[dict[str, str], datetime | None, datetime | None, list[str]]:
    """(values as typed, since, until, errors): ``from`` and ``to`` are whole UTC days,
    ``to`` included."""
    errors: list[str] = []
    values = {k: str(request.query_params.get(k) or "").strip()[:40] for k in ("from", "to")}
    days: dict[str, datetime | None] = {}
    for key, text in values.items():
        if not text:
            days[key] = None
            continue
        try:
            days[key] = datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            errors.append(f"{key}: {text!r} is not a date (YYYY-MM-DD)")
            days[key] = None
    since = days["from"]
    until = days["to"] + timedelta(days=1) if days["to"] is not None else None
    return values, since, until, errors
