"""Browser tests: headless Chromium (Debian's package) driven by Playwright against a real
gateway process. See docs/console.md, "Browser tests".

Fixtures:
- ``console`` (per module): a running gateway on a fresh database, with one user per role,
  each with a console password and an API token (``console.people[role]``);
- ``browser`` (per session): one Chromium for the whole run;
- ``page_for`` (per test): ``await page_for("agent")`` is a Page already signed in as that
  role's person (a fresh browser context each, so sessions never mix);
- ``anon_page`` (per test): a Page with no session.
A failing test leaves a screenshot of every page it opened in ``tests/browser/artifacts/``.

Helpers (import from ``tests.browser.support``): ``assert_accessible(page)`` (axe-core: no
serious or critical violation), ``doc_shot(page, name)`` (a screenshot for docs/console/
when ``GATEWAY_DOC_SHOTS=1``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from gateway.pipeline.accounts import Accounts
from gateway.settings import Settings
from gateway.store.database import Database
from tests.browser.support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    PEOPLE,
    chromium_missing,
)
from tests.conftest import fresh_database
from tests.e2e.server import Server, gateway_env

_MISSING = chromium_missing()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if _MISSING:
                item.add_marker(pytest.mark.skip(reason=_MISSING))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class Person(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    role: str
    password: str
    token: str


class Console(msgspec.Struct, kw_only=True):
    server: Server
    env: dict[str, str]
    database_url: str
    data_dir: Path
    people: dict[str, Person]  # by role key: agent, agent2, compliance, compliance2, ...

    @property
    def url(self) -> str:
        return self.server.url

    def session_cookie(self, who: str) -> str:
        """Sign ``who`` (a role key) in over HTTP, as the form does; the session cookie."""
        person = self.people[who]
        with httpx.Client(base_url=self.url, timeout=10) as client:
            form = client.get("/ui/sign-in").text
            match = re.search(r'name="_csrf" value="([^"]*)"', form)
            assert match
            done = client.post(
                "/ui/sign-in",
                data={"_csrf": match.group(1), "name": person.name, "password": person.password},
            )
            assert done.status_code == 303, done.text
            cookie = client.cookies.get("egw_session")
        assert cookie
        return cookie


async def _add_people(dsn: str) -> dict[str, Person]:
    """One person per role key, with a console password and an API token (in-process: six
    CLI runs would cost seconds each; the CLI path has its own tests)."""
    db = await Database.open(
        Settings(database_url=dsn, db_pool_min=1, db_pool_max=2), migrate=False
    )
    try:
        accounts = Accounts(db.pool)
        people = {}
        for key, (name, role) in PEOPLE.items():
            _user, token = await accounts.add(name=name, role=role, actor="cli")
            await accounts.set_password(name, PASSWORD, actor="cli")
            people[key] = Person(name=name, role=role, password=PASSWORD, token=token)
        return people
    finally:
        await db.close()


@pytest.fixture(scope="module")
async def console(
    pg_cluster: str, template_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    dsn = await fresh_database(pg_cluster)
    data_dir = tmp_path_factory.mktemp("console")
    env = gateway_env(dsn, data_dir)
    people = await _add_people(dsn)
    server = Server(env, data_dir / "server.log")
    try:
        yield Console(server=server, env=env, database_url=dsn, data_dir=data_dir, people=people)
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if _MISSING:
        pytest.skip(_MISSING)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session", autouse=True)
def _clean_artifacts() -> Iterator[None]:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
    yield


PageFactory = Callable[[str], Awaitable[Any]]


@pytest.fixture
async def page_for(
    request: pytest.FixtureRequest, browser: Any, console: Console
) -> AsyncIterator[PageFactory]:
    """``await page_for("agent")``: a page signed in as that role (a context each)."""
    contexts: list[Any] = []

    async def make(who: str) -> Any:
        context = await browser.new_context(
            base_url=console.url, viewport={"width": 1366, "height": 900}
        )
        context.set_default_timeout(10_000)
        await context.add_cookies(
            [
                {
                    "name": "egw_session",
                    "value": console.session_cookie(who),
                    "domain": "127.0.0.1",
                    "path": "/ui",
                    "httpOnly": True,
                    "sameSite": "Lax",
                }
            ]
        )
        contexts.append(context)
        page = await context.new_page()
        await page.goto("/ui/")
        return page

    yield make
    await _close(request, contexts)


@pytest.fixture
async def anon_page(
    request: pytest.FixtureRequest, browser: Any, console: Console
) -> AsyncIterator[Any]:
    context = await browser.new_context(
        base_url=console.url, viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = await context.new_page()
    yield page
    await _close(request, [context])


async def _close(request: pytest.FixtureRequest, contexts: list[Any]) -> None:
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for c, context in enumerate(contexts):
        if failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            for p, page in enumerate(context.pages):
                try:
                    await page.screenshot(path=ARTIFACTS / f"{name}-{c}-{p}.png", full_page=True)
                except Exception as exc:  # a crashed page: keep going, say why
                    print(f"no screenshot of {name}: {exc}")
        await context.close()


def pytest_report_header(config: pytest.Config) -> str | None:
    if os.environ.get("GATEWAY_BROWSER_SKIP") or _MISSING:
        return f"browser tests: skipped ({_MISSING})"
    return None
