"""PostgreSQL going away mid-request answers 503 with Retry-After, never 500 (issue 11).

The errors are the ones seen when the database restarts under load
(tests/e2e/test_faults.py): a connection broken mid-query, a server shutting down or not yet
accepting connections, and the driver's own state errors on a connection the server
dropped. Each is raised by a real route of a real Litestar app with the gateway's handlers.
"""

from __future__ import annotations

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from gateway.http.problems import EXCEPTION_HANDLERS, PROBLEM
from gateway.store.errors import Unavailable

ERRORS = [
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
    asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
    asyncpg.InternalClientError("cannot switch to state 15; another operation is in progress"),
    asyncpg.InterfaceError("connection is closed"),
    Unavailable("PostgreSQL cannot be reached (No such file or directory)"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_database_errors_answer_503_with_retry_after(error: Exception) -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise error

    app = Litestar([boom], exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["retry-after"] == "5"
    assert response.json()["status"] == 503


def test_a_plain_bug_is_still_a_500() -> None:
    @get("/bug", sync_to_thread=False)
    def bug() -> None:
        raise KeyError("not a database error")

    app = Litestar([bug], exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        assert client.get("/bug").status_code == 500
