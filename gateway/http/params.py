"""What every API parameter and body field may hold, checked at the boundary.

PostgreSQL cannot store a NUL character, its integers are 64-bit and its timestamps end at
year 294276 but Python's at 9999: input outside those is answered 400 here, naming the
field, instead of failing deep inside a query as a 500. The types carry msgspec
constraints, so Litestar checks them before a handler runs and the OpenAPI document states
them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar.exceptions import ValidationException
from litestar.params import PathParameter, QueryParameter
from msgspec import Meta

MAX_INT64 = 2**63 - 1
# No NUL and no other control character: names, handles, identifiers and filters.
NO_CONTROL = "^[^\\x00-\\x1f\\x7f]*$"
# Free text (mention and reply texts, notes, Rego source): tabs and line breaks allowed.
TEXT_CHARS = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"

Id = Annotated[int, Meta(ge=0, le=MAX_INT64)]
PositiveId = Annotated[int, Meta(ge=1, le=MAX_INT64)]
Name = Annotated[str, Meta(min_length=1, max_length=500, pattern=NO_CONTROL)]
Channel = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_CONTROL)]
Revision = Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_CONTROL)]
SourceName = Annotated[str, Meta(min_length=1, max_length=63, pattern=NO_CONTROL)]

# Parameters: Litestar applies the constraints of its own Parameter markers (a msgspec
# Meta inside a parameter's Annotated is not checked), so these carry them there.
PathId = Annotated[int, PathParameter(ge=0, le=MAX_INT64)]
PathRevision = Annotated[str, PathParameter(min_length=1, max_length=200, pattern=NO_CONTROL)]
PathUser = Annotated[str, PathParameter(min_length=1, max_length=200, pattern=NO_CONTROL)]
PathSource = Annotated[str, PathParameter(min_length=1, max_length=63, pattern=NO_CONTROL)]
QueryId = Annotated[int | None, QueryParameter(ge=0, le=MAX_INT64)]
QueryFilter = Annotated[str | None, QueryParameter(max_length=500, pattern=NO_CONTROL)]
QueryChannel = Annotated[str, QueryParameter(min_length=1, max_length=64, pattern=NO_CONTROL)]
QueryName = Annotated[str, QueryParameter(min_length=1, max_length=500, pattern=NO_CONTROL)]
# A VADER compound score; NaN and infinities fail the bounds (they would match nothing).
QuerySentiment = Annotated[float | None, QueryParameter(ge=-1.0, le=1.0)]
QueryCursor = Annotated[
    str | None,
    QueryParameter(
        max_length=19, pattern="^[0-9]*$", description="next_cursor of the previous page"
    ),
]


def bad_field(key: str, message: str, *, source: str = "query") -> ValidationException:
    """A 400 naming ``key``, shaped like Litestar's own validation errors."""
    return ValidationException(
        detail=f"{message} ({key})", extra=[{"key": key, "message": message, "source": source}]
    )


def instant(key: str, value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC time; 400 naming ``key`` when it is outside what can be
    compared (e.g. ``0001-01-01T00:00:00+23:59`` is before year 1 in UTC)."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise bad_field(key, "the time is out of range once converted to UTC") from None


def has_nul(value: Any) -> bool:
    """Whether a decoded JSON value holds a NUL in any string or key (iterative)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
