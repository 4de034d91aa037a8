"""A console client for integration tests: the real app on a started Runtime, in-process."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx

from gateway.app import create_app
from gateway.pipeline.accounts import Accounts
from gateway.runtime import Runtime
from tests.integration.sources_support import serving

PASSWORD = "correct horse battery"


@contextlib.asynccontextmanager
async def console_app(runtime: Runtime) -> AsyncIterator[str]:
    """The whole app (API and console) served on loopback, using ``runtime``."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    async with serving(app) as base:
        yield base


async def add_person(runtime: Runtime, name: str, role: str) -> str:
    """A user with the console password ``PASSWORD``; returns their API token."""
    accounts = Accounts(runtime.db.pool)
    _user, token = await accounts.add(name=name, role=role, actor="test")
    await accounts.set_password(name, PASSWORD, actor="test")
    return token


def form_csrf(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]*)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/ui/sign-in")
    return await client.post(
        "/ui/sign-in",
        data={"_csrf": form_csrf(page.text), "name": name, "password": password},
    )


async def sign_in_with_token(client: httpx.AsyncClient, token: str) -> httpx.Response:
    page = await client.get("/ui/sign-in")
    return await client.post("/ui/sign-in", data={"_csrf": form_csrf(page.text), "token": token})
