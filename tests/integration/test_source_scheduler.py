"""The scheduler on the real database: each source on its own, health recorded, cursors kept,
304s cheap, 429s honoured, private addresses refused at poll time, one poller per source."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, Response, get

from connectors.contract import Batch, Source, TransientError
from gateway.domain.sources import SourceRecord
from gateway.net_guard import OutboundClients
from gateway.runtime import Runtime
from gateway.secrets import Secrets
from gateway.settings import Settings
from gateway.sources.build import demo_source
from gateway.sources.scheduler import SourceScheduler, poll_built_in
from gateway.sources.service import SourcePatch, SourceService, SourceSpec
from gateway.store import cursors
from tests.integration.sources_support import KEY, PUBLIC, fake_dns, fast, rss, serving

DATA = Path(__file__).resolve().parents[1] / "data" / "mastodon"
Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


class World:
    """Fake internet (hosts → handlers), the service to configure sources, schedulers."""

    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.hosts: dict[str, Handler] = {}
        self.hits: dict[str, int] = {}
        self.environ: dict[str, str] = {}
        self.dns: dict[str, list[str]] = {}
        self.secrets = Secrets(settings, environ=self.environ, key=KEY)
        self.service = SourceService(runtime.db.pool, self.secrets, settings, resolver=fake_dns({}))
        self.clients = OutboundClients(
            transport=httpx.MockTransport(self._route), resolver=self._resolve
        )

    async def _resolve(self, host: str, port: int) -> list[str]:
        return self.dns.get(host, [PUBLIC])

    async def _route(self, request: httpx.Request) -> httpx.Response:
        host = request.headers["Host"]
        key = f"{host}{request.url.path}"
        self.hits[key] = self.hits.get(key, 0) + 1
        return await self.hosts[key](request)

    def scheduler(self, instance: str | None = None) -> SourceScheduler:
        return SourceScheduler(
            self.runtime.db.pool,
            self.runtime.ingestor,
            self.clients.client,
            self.settings,
            secrets=self.secrets,
            instance=instance,
        )

    async def add(self, name: str, kind: str = "rss", **spec: Any) -> SourceRecord:
        config = spec.pop("config", None) or {"url": f"https://{name}.example/feed"}
        spec.setdefault("interval_s", 0.2)
        return await self.service.add(
            SourceSpec(name=name, kind=kind, config=config, **spec), actor="test"
        )

    async def source(self, name: str) -> SourceRecord:
        return await self.service.get(name)

    async def count(self, sql: str, *args: Any) -> int:
        async with self.runtime.db.pool.acquire() as conn:
            return int(await conn.fetchval(sql, *args))


@pytest.fixture
async def world(runtime: Runtime, settings: Settings) -> AsyncIterator[World]:
    w = World(runtime, fast(settings))
    try:
        yield w
    finally:
        await w.clients.aclose()


async def run_for(world: World, seconds: float, *, instance: str | None = None) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(world.scheduler(instance).run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 5)


async def until(check: Callable[[], Awaitable[bool]], within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def feed(items: list[tuple[str, str]], **headers: str) -> Handler:
    async def handler(request: httpx.Request) -> httpx.Response:
        etag = headers.get("ETag")
        if etag is not None and request.headers.get("If-None-Match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(
            200, content=rss(items), headers={"Content-Type": "application/rss+xml", **headers}
        )

    return handler


async def test_a_hanging_and_a_failing_source_do_not_delay_a_healthy_one(world: World) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def fail(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="down for maintenance")

    world.hosts["good.example/feed"] = feed([("https://good.example/1", "@acme my order is late")])
    world.hosts["stuck.example/feed"] = hang
    world.hosts["broken.example/feed"] = fail
    for name in ("good", "stuck", "broken"):
        await world.add(name)

    await run_for(world, 2.0)

    good, stuck, broken = [await world.source(n) for n in ("good", "stuck", "broken")]
    assert world.hits["good.example/feed"] >= 6  # every ~0.2 s, undisturbed
    assert good.health.consecutive_failures == 0 and good.health.last_error is None
    assert good.health.items_total == 1 and good.health.last_success_at is not None
    assert stuck.health.last_success_at is None
    assert "no complete poll within 0.5 s" in (stuck.health.last_error or "")
    assert stuck.health.consecutive_failures >= 1
    # Backoff: 0.4 s, 0.8 s, 1.6 s ... so far fewer attempts than the healthy source.
    assert 2 <= world.hits["broken.example/feed"] <= 4
    assert broken.health.consecutive_failures == world.hits["broken.example/feed"]
    assert "HTTP 503" in (broken.health.last_error or "")
    assert broken.health.next_poll_at is not None
    assert await world.count("SELECT count(*) FROM mentions") == 1


async def test_health_recovers_and_counts_items(world: World) -> None:
    answers = [503, 200, 200]
    items = [("https://flaky.example/1", "@acme where is my refund?")]

    async def flaky(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0) if answers else 200
        if status != 200:
            return httpx.Response(status)
        if not answers:
            items.append(("https://flaky.example/2", "@acme still waiting on that refund"))
        return httpx.Response(200, content=rss(items))

    world.hosts["flaky.example/feed"] = flaky
    await world.add("flaky")

    async def two_items() -> bool:
        return (await world.source("flaky")).health.items_total == 2

    stop = asyncio.Event()
    task = asyncio.create_task(world.scheduler().run(stop))
    await until(two_items)
    stop.set()
    await task
    health = (await world.source("flaky")).health
    assert health.consecutive_failures == 0
    assert health.last_error_at is not None and "HTTP 503" in (health.last_error or "")
    assert health.last_success_at is not None and health.last_success_at > health.last_error_at
    assert await world.count("SELECT count(*) FROM mentions WHERE channel = 'rss'") == 2


async def test_cursors_survive_a_restart_and_unchanged_feeds_cost_a_304(world: World) -> None:
    first = [
        ("https://shop.example/r/1", "@acme broken on arrival"),
        ("https://shop.example/r/2", "@acme love it"),
    ]
    sent_validators: list[str | None] = []
    items, etag = list(first), ['"v1"']

    async def shop(request: httpx.Request) -> httpx.Response:
        sent_validators.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == etag[0]:
            return httpx.Response(304, headers={"ETag": etag[0]})
        return httpx.Response(200, content=rss(items), headers={"ETag": etag[0]})

    world.hosts["shop.example/feed"] = shop
    await world.add("shop")
    await run_for(world, 0.8)

    assert sent_validators[0] is None and set(sent_validators[1:]) == {'"v1"'}  # then 304s
    health = (await world.source("shop")).health
    assert health.items_total == 2 and health.items_last == 0  # the 304s fetched nothing
    async with world.runtime.db.pool.acquire() as conn:
        stored = await cursors.get_cursor(conn, "shop")
    assert stored is not None and json.loads(stored)["etag"] == '"v1"'

    # A new scheduler (a restart) starts from the stored cursor: a 304 first, then only
    # the entry that is new once the feed changes.
    sent_validators.clear()
    items.append(("https://shop.example/r/3", "@acme the hinge snapped"))
    etag[0] = '"v2"'
    await run_for(world, 0.6, instance="restarted")
    assert sent_validators[0] == '"v1"'
    assert await world.count("SELECT count(*) FROM mentions") == 3
    ingests = await world.count(
        "SELECT count(*) FROM audit_events WHERE kind = 'mentions_ingested' AND actor = $1",
        "source:shop",
    )
    assert ingests == 2  # the first two, then the third alone: nothing ingested twice


async def test_a_429_retry_after_is_honoured(world: World) -> None:
    async def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "120"})

    world.hosts["busy.example/feed"] = limited
    await world.add("busy")
    before = datetime.now(UTC)
    await run_for(world, 1.0)

    assert world.hits["busy.example/feed"] == 1  # not again within the run
    health = (await world.source("busy")).health
    assert "retry after 120 s" in (health.last_error or "")
    assert health.next_poll_at is not None
    wait = health.next_poll_at - before
    assert timedelta(seconds=118) <= wait <= timedelta(seconds=125)


async def test_private_addresses_are_refused_at_poll_time_until_allowed(world: World) -> None:
    # The name was public when configured and resolves to a private address now (DNS
    # rebinding): every request is checked, so the poll is refused.
    world.dns["rebind.example"] = ["10.0.0.5"]
    world.hosts["rebind.example/feed"] = feed([("https://rebind.example/1", "@acme hi")])
    await world.add("rebind")

    stop = asyncio.Event()
    task = asyncio.create_task(world.scheduler().run(stop))

    async def refused() -> bool:
        return (await world.source("rebind")).health.last_error is not None

    await until(refused)
    health = (await world.source("rebind")).health
    assert health.last_error is not None
    assert "resolves to a private address 10.0.0.5" in health.last_error
    assert "allow_private" in health.last_error
    assert "rebind.example/feed" not in world.hits  # nothing was sent

    # An admin allows it: the running scheduler picks the change up and polls.
    await world.service.update("rebind", SourcePatch(allow_private=True), actor="test")

    async def polled() -> bool:
        return (await world.source("rebind")).health.items_total == 1

    await until(polled)
    stop.set()
    await task
    assert world.hits["rebind.example/feed"] >= 1


async def test_sources_added_disabled_and_removed_while_running(world: World) -> None:
    world.hosts["late.example/feed"] = feed([("https://late.example/1", "@acme hello")])
    scheduler = world.scheduler()
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    await asyncio.sleep(0.2)
    assert scheduler.polling == []

    await world.add("late")

    async def polled() -> bool:
        return world.hits.get("late.example/feed", 0) >= 2

    await until(polled)
    await world.service.update("late", SourcePatch(enabled=False), actor="test")
    await asyncio.sleep(0.3)
    assert scheduler.polling == []
    hits = world.hits["late.example/feed"]
    await asyncio.sleep(0.5)
    assert world.hits["late.example/feed"] == hits  # disabled: not polled

    await world.service.update("late", SourcePatch(enabled=True), actor="test")
    await until(lambda: _more(world, "late.example/feed", hits))
    await world.service.remove("late", actor="test")
    await asyncio.sleep(0.3)
    assert scheduler.polling == []
    stop.set()
    await task
    async with world.runtime.db.pool.acquire() as conn:
        assert await cursors.get_cursor(conn, "late") is None


async def _more(world: World, key: str, than: int) -> bool:
    return world.hits.get(key, 0) > than


async def test_two_instances_never_poll_one_source_at_once(world: World) -> None:
    in_flight = {"now": 0, "max": 0}

    async def slow(request: httpx.Request) -> httpx.Response:
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await asyncio.sleep(0.15)
        in_flight["now"] -= 1
        return httpx.Response(200, content=rss([("https://shared.example/1", "@acme hi")]))

    world.hosts["shared.example/feed"] = slow
    await world.add("shared", interval_s=0.05)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(world.scheduler(f"instance-{i}").run(stop)) for i in range(3)]
    await asyncio.sleep(1.5)
    stop.set()
    await asyncio.gather(*tasks)
    assert world.hits["shared.example/feed"] >= 4
    assert in_flight["max"] == 1


async def test_overlapping_sources_store_each_mention_once(world: World) -> None:
    items = [("https://blog.example/post/1", "@acme the update broke my phone")]
    world.hosts["blog.example/feed"] = feed(items)
    world.hosts["mirror.example/feed"] = feed(items)
    await world.add("blog", config={"url": "https://blog.example/feed"})
    await world.add("mirror", channel="rss-mirror", config={"url": "https://mirror.example/feed"})
    await run_for(world, 0.8)
    assert (await world.source("blog")).health.items_total == 1
    assert (await world.source("mirror")).health.items_total == 1
    assert await world.count("SELECT count(*) FROM mentions") == 1


async def test_env_referenced_secrets_are_resolved_at_use(world: World) -> None:
    page = json.loads((DATA / "notifications_page.json").read_text())
    seen_tokens: list[str] = []

    async def mastodon(request: httpx.Request) -> httpx.Response:
        seen_tokens.append(request.headers.get("Authorization", ""))
        return httpx.Response(200, json=page["body"])

    world.hosts["mastodon.example/api/v1/notifications"] = mastodon
    await world.add(
        "masto",
        kind="mastodon",
        secret="env:GATEWAY_SOURCE_SECRET_TEST_MASTODON_TOKEN",
        config={"base_url": "https://mastodon.example", "brand_account_id": "43"},
    )

    stop = asyncio.Event()
    task = asyncio.create_task(world.scheduler().run(stop))

    async def failed() -> bool:
        return (await world.source("masto")).health.last_error is not None

    await until(failed)  # the variable is not set yet
    assert "$GATEWAY_SOURCE_SECRET_TEST_MASTODON_TOKEN, which is not set" in str(
        (await world.source("masto")).health.last_error
    )
    assert seen_tokens == []
    world.environ["GATEWAY_SOURCE_SECRET_TEST_MASTODON_TOKEN"] = "tok-from-env"

    async def ingested() -> bool:
        return (await world.source("masto")).health.items_total >= 1

    await until(ingested, within_s=8)
    stop.set()
    await task
    assert seen_tokens and set(seen_tokens) == {"Bearer tok-from-env"}
    assert await world.count("SELECT count(*) FROM mentions WHERE channel = 'mastodon'") >= 1
    async with world.runtime.db.pool.acquire() as conn:
        row = await conn.fetchval("SELECT row_to_json(s)::text FROM sources s")
    assert "tok-from-env" not in row


async def test_a_local_feed_over_real_http_with_the_allow_flag(
    runtime: Runtime, settings: Settings
) -> None:
    """Real sockets: the guard resolves feed.test to loopback (allowed for this source),
    connects there, keeps the Host header; the second poll is a real 304."""
    seen: list[tuple[str, str | None]] = []

    @get("/feed", media_type="application/rss+xml", sync_to_thread=False)
    def serve(request: Request[Any, Any, Any]) -> Response[bytes]:
        seen.append((request.headers["host"], request.headers.get("if-none-match")))
        if request.headers.get("if-none-match") == '"local-1"':
            return Response(b"", status_code=304, headers={"ETag": '"local-1"'})
        body = rss([("https://feed.test/1", "@acme the local feed works")])
        return Response(body, headers={"ETag": '"local-1"'})

    async def dns(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "feed.test" else []

    quick = fast(settings)
    secrets = Secrets(quick, environ={}, key=KEY)
    service = SourceService(runtime.db.pool, secrets, quick, resolver=dns)
    clients = OutboundClients(resolver=dns)  # the real transport
    try:
        async with serving(Litestar(route_handlers=[serve])) as base:
            port = httpx.URL(base).port
            spec = SourceSpec(
                name="local",
                kind="rss",
                config={"url": f"http://feed.test:{port}/feed"},
                interval_s=0.2,
                allow_private=True,
            )
            await service.add(spec, actor="test")
            scheduler = SourceScheduler(
                runtime.db.pool, runtime.ingestor, clients.client, quick, secrets=secrets
            )
            stop = asyncio.Event()
            task = asyncio.create_task(scheduler.run(stop))
            await asyncio.sleep(0.8)
            stop.set()
            await task
            refused = await service.update("local", SourcePatch(allow_private=False), actor="t")
            assert refused.allow_private is False
            stop = asyncio.Event()
            task = asyncio.create_task(scheduler.run(stop))
            await asyncio.sleep(0.5)
            stop.set()
            await task
    finally:
        await clients.aclose()
    assert seen[0] == (f"feed.test:{port}", None)
    assert len(seen) >= 2 and all(v == '"local-1"' for _, v in seen[1:])
    health = (await service.get("local")).health
    assert health.items_total == 1
    assert "loopback address 127.0.0.1" in (health.last_error or "")  # once disallowed
    async with runtime.db.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM mentions") == 1


class _Flaky:
    """The demo source behind a channel that fails once, then has a bug once."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.channel = inner.channel
        self.cursors: list[str | None] = []

    async def fetch(self, cursor: str | None) -> Batch:
        self.cursors.append(cursor)
        if len(self.cursors) == 1:
            raise TransientError("demo channel down")
        if len(self.cursors) == 2:
            raise RuntimeError("a connector bug")
        return await self.inner.fetch(cursor)


async def test_the_demo_source_is_polled_by_the_same_poller_and_survives_failures(
    world: World,
) -> None:
    source = _Flaky(demo_source(world.settings))
    stop = asyncio.Event()
    task = asyncio.create_task(
        poll_built_in(
            world.runtime.db.pool,
            world.runtime.ingestor,
            "demo",
            source,
            interval_s=0.02,
            stop=stop,
        )
    )

    async def fetched_four_times() -> bool:
        return len(source.cursors) >= 4

    await until(fetched_four_times, within_s=10)
    stop.set()
    await asyncio.wait_for(task, 5)
    # a failure and a crash leave the cursor alone; each success moves it on, stored
    assert source.cursors[:3] == [None, None, None]
    assert source.cursors[3] is not None
    async with world.runtime.db.pool.acquire() as conn:
        stored = await cursors.get_cursor(conn, "demo")
    assert stored is not None and int(stored) >= int(source.cursors[3])
    assert await world.count("SELECT count(*) FROM mentions WHERE channel = 'demo'") > 0
