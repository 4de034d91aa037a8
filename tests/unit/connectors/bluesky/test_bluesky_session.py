"""The Bluesky session: lazy login, one refresh on ExpiredToken, re-login, errors mapped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.bluesky import BlueskySession, XrpcPermanentError, XrpcTransientError
from connectors.contract import PermanentError, TransientError

DATA = Path(__file__).parents[3] / "data" / "bluesky"
SERVICE = "https://pds.example.com"
PASSWORD = "abcd-efgh-ijkl-mnop"
NOW = 1_741_944_600.0  # 2025-03-14T09:30:00Z
LIST = "app.bsky.notification.listNotifications"


class FakePds:
    """Issues numbered tokens; ``expired`` access tokens answer ExpiredToken."""

    def __init__(self) -> None:
        self.template: dict[str, Any] = json.loads((DATA / "createSession.json").read_text())
        self.requests: list[httpx.Request] = []
        self.issued = 0
        self.valid_access: set[str] = set()
        self.valid_refresh: set[str] = set()
        self.password = PASSWORD
        self.refresh_answer: httpx.Response | None = None  # overrides refreshSession
        self.call_answer: Callable[[httpx.Request], httpx.Response] | None = None

    def expire_access(self) -> None:
        self.valid_access.clear()

    def _issue(self) -> httpx.Response:
        self.issued += 1
        access, refresh = f"access-{self.issued}", f"refresh-{self.issued}"
        self.valid_access.add(access)
        self.valid_refresh.add(refresh)
        return httpx.Response(
            200, json={**self.template, "accessJwt": access, "refreshJwt": refresh}
        )

    def names(self) -> list[str]:
        return [r.url.path.removeprefix("/xrpc/") for r in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        nsid = request.url.path.removeprefix("/xrpc/")
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if nsid == "com.atproto.server.createSession":
            body = json.loads(request.content)
            if body != {"identifier": "acme.example.com", "password": self.password}:
                return _error(401, "AuthenticationRequired", "Invalid identifier or password")
            return self._issue()
        if nsid == "com.atproto.server.refreshSession":
            if self.refresh_answer is not None:
                return self.refresh_answer
            if bearer not in self.valid_refresh:
                return _error(400, "ExpiredToken", "Token has expired")
            self.valid_refresh.discard(bearer)
            return self._issue()
        if bearer not in self.valid_access:
            return _error(400, "ExpiredToken", "Token has expired")
        if self.call_answer is not None:
            return self.call_answer(request)
        return httpx.Response(200, json={"notifications": [], "seen": bearer})


def _error(status: int, name: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": name, "message": message}, headers=headers)


def _session(pds: FakePds, identifier: str = "@acme.example.com") -> BlueskySession:
    client = httpx.AsyncClient(transport=httpx.MockTransport(pds.handle))
    return BlueskySession(SERVICE, identifier, PASSWORD, client, clock=lambda: NOW)


async def _call(session: BlueskySession) -> dict[str, Any]:
    response = await session.authorized_request("GET", LIST, params={"limit": 5})
    answer: dict[str, Any] = response.json()
    return answer


async def test_logs_in_lazily_and_sends_the_access_token() -> None:
    pds = FakePds()
    session = _session(pds)
    assert session.did is None
    assert pds.requests == []
    answer = await _call(session)
    assert answer["seen"] == "access-1"
    assert session.did == "did:plc:acmebrand222222222222222"
    assert session.handle == "acme.example.com"
    assert pds.names() == ["com.atproto.server.createSession", LIST]
    call = pds.requests[1]
    assert call.method == "GET"
    assert str(call.url) == f"{SERVICE}/xrpc/{LIST}?limit=5"
    await _call(session)
    assert pds.names().count("com.atproto.server.createSession") == 1


async def test_expired_token_is_refreshed_once_and_the_call_retried() -> None:
    pds = FakePds()
    session = _session(pds)
    await session.ensure()
    pds.expire_access()
    answer = await _call(session)
    assert answer["seen"] == "access-2"
    assert pds.names() == [
        "com.atproto.server.createSession",
        LIST,
        "com.atproto.server.refreshSession",
        LIST,
    ]
    refresh = pds.requests[2]
    assert refresh.headers["Authorization"] == "Bearer refresh-1"


async def test_a_refused_refresh_logs_in_again() -> None:
    pds = FakePds()
    session = _session(pds)
    await session.ensure()
    pds.expire_access()
    pds.valid_refresh.clear()  # the refresh token expired too
    answer = await _call(session)
    assert answer["seen"] == "access-2"
    assert pds.names() == [
        "com.atproto.server.createSession",
        LIST,
        "com.atproto.server.refreshSession",
        "com.atproto.server.createSession",
        LIST,
    ]


async def test_a_failing_refresh_service_is_transient_and_keeps_the_password_unused() -> None:
    pds = FakePds()
    session = _session(pds)
    await session.ensure()
    pds.expire_access()
    pds.refresh_answer = _error(503, "InternalServerError", "down")
    with pytest.raises(TransientError):
        await _call(session)
    assert pds.names().count("com.atproto.server.createSession") == 1


async def test_concurrent_calls_share_one_login_and_one_refresh() -> None:
    pds = FakePds()
    session = _session(pds)
    await asyncio.gather(*(_call(session) for _ in range(5)))
    assert pds.names().count("com.atproto.server.createSession") == 1
    pds.expire_access()
    answers = await asyncio.gather(*(_call(session) for _ in range(5)))
    assert {a["seen"] for a in answers} == {"access-2"}
    assert pds.names().count("com.atproto.server.refreshSession") == 1


async def test_a_wrong_app_password_is_permanent_and_never_echoed() -> None:
    pds = FakePds()
    pds.password = "another-password"
    session = _session(pds)
    with pytest.raises(PermanentError) as caught:
        await _call(session)
    assert isinstance(caught.value, XrpcPermanentError)
    assert caught.value.error == "AuthenticationRequired"
    assert PASSWORD not in str(caught.value)
    assert session.did is None


async def test_tokens_never_show_in_repr_or_errors() -> None:
    pds = FakePds()
    session = _session(pds)
    await session.ensure()
    pds.call_answer = lambda request: _error(400, "InvalidRequest", "bad cursor")
    with pytest.raises(PermanentError) as caught:
        await _call(session)
    for text in (repr(session), str(caught.value)):
        assert "access-1" not in text
        assert "refresh-1" not in text
        assert PASSWORD not in text
    assert "InvalidRequest" in str(caught.value)


async def test_rate_limit_gives_retry_after_from_ratelimit_reset() -> None:
    pds = FakePds()
    session = _session(pds)
    reset = str(int(NOW) + 120)
    pds.call_answer = lambda request: _error(
        429, "RateLimitExceeded", "Rate Limit Exceeded", **{"ratelimit-reset": reset}
    )
    with pytest.raises(TransientError) as caught:
        await _call(session)
    assert caught.value.retry_after == 120.0
    assert isinstance(caught.value, XrpcTransientError)
    assert caught.value.status == 429


async def test_retry_after_header_wins_over_ratelimit_reset() -> None:
    pds = FakePds()
    session = _session(pds)
    pds.call_answer = lambda request: _error(
        429, "RateLimitExceeded", "slow down", **{"Retry-After": "7", "ratelimit-reset": "1"}
    )
    with pytest.raises(TransientError) as caught:
        await _call(session)
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.Response(502, text="<html>Bad Gateway</html>"), TransientError),
        (httpx.Response(500, json={"error": "InternalServerError"}), TransientError),
        (httpx.Response(400, json={"error": "InvalidRequest", "message": "x"}), PermanentError),
        (httpx.Response(403, json={"error": "AccountTakedown"}), PermanentError),
        (httpx.Response(301, headers={"Location": "https://elsewhere.example"}), PermanentError),
    ],
)
async def test_answers_map_to_contract_errors(
    answer: httpx.Response, expected: type[Exception]
) -> None:
    pds = FakePds()
    session = _session(pds)
    pds.call_answer = lambda request: answer
    with pytest.raises(expected):
        await _call(session)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ReadTimeout("slow"), TransientError),
        (httpx.ConnectError("refused"), TransientError),
        (httpx.UnsupportedProtocol("nope"), PermanentError),
    ],
)
async def test_transport_failures_map_to_contract_errors(
    failure: httpx.HTTPError, expected: type[Exception]
) -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        raise failure

    client = httpx.AsyncClient(transport=httpx.MockTransport(failing))
    session = BlueskySession(SERVICE, "acme.example.com", PASSWORD, client)
    with pytest.raises(expected) as caught:
        await session.ensure()
    assert caught.value.__cause__ is None  # the request (and its password) is not attached


async def test_a_call_can_use_another_client() -> None:
    pds = FakePds()
    session = _session(pds)
    other: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        other.append(request)
        return pds.handle(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(recording))
    await session.authorized_request("GET", LIST, client=client)
    assert [r.url.path for r in other] == [f"/xrpc/{LIST}"]


def test_configuration_is_checked() -> None:
    client = httpx.AsyncClient()
    with pytest.raises(ValueError):
        BlueskySession("pds.example.com", "acme", PASSWORD, client)
    with pytest.raises(ValueError):
        BlueskySession(SERVICE, " ", PASSWORD, client)
    with pytest.raises(ValueError):
        BlueskySession(SERVICE, "acme", "", client)
