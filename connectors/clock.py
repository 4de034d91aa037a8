"""Time helpers every connector shares: now, time-zone-safe datetimes, Retry-After."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """``moment`` with UTC assumed when it carries no time zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP date), or None.

    A date in the past gives 0; a value that is neither form gives None.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, (aware(when) - aware(now)).total_seconds())
