"""Integration fixtures: a started Runtime on a fresh database, users, and mentions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.domain.records import User
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.integration.support import make_user


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = await Runtime.start(settings)
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def agent(runtime: Runtime) -> User:
    return await make_user(runtime, "alice", "agent")


@pytest.fixture
async def officer(runtime: Runtime) -> User:
    return await make_user(runtime, "carol", "compliance")
