"""Errors the store raises; database errors are translated here, never leak upward.

StoreError
├── NotFound        the row asked for does not exist
├── Conflict        a uniqueness or state rule refused the change
└── Unavailable     the database cannot be reached or started

``DATABASE_DOWN`` names the driver's errors that mean "PostgreSQL went away or is restarting"
(a connection broken mid-query, a server shutting down or starting up). They can surface
from any query; the HTTP layer answers them 503 with Retry-After, never 500, and the
background loops log them and try again (docs/reliability.md).
"""

import asyncpg

DATABASE_DOWN: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    # The driver's own state errors: a connection the server dropped mid-operation (seen
    # as "another operation is in progress" when the pool resets it). Logged with their
    # traceback, so a real misuse still shows.
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)

# What a background loop survives and retries: the above, a refused or reset socket, any
# other server error, and a connection the driver already knows to be closed.
LOOP_ERRORS: tuple[type[Exception], ...] = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class StoreError(Exception):
    pass


class NotFound(StoreError):
    pass


class Conflict(StoreError):
    pass


class Unavailable(StoreError):
    pass
