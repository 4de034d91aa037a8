"""Helpers for the sources tests: fake DNS, feeds, a real HTTP server for the routes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar

from gateway.http.auth import DEPENDENCIES, authenticated
from gateway.http.bodies import GatewayRequest
from gateway.http.problems import EXCEPTION_HANDLERS
from gateway.http.source_parts import SourceParts
from gateway.http.source_routes import SOURCE_ROUTES
from gateway.net_guard import Resolver
from gateway.runtime import Runtime
from gateway.secrets import Secrets
from gateway.settings import Settings
from gateway.sources.inbound import InboundWebhooks
from gateway.sources.service import SourceService

PUBLIC = "93.184.216.34"
KEY = bytes(range(32))


def fake_dns(table: dict[str, list[str]]) -> Resolver:
    """A resolver answering from ``table``; other names do not resolve."""

    async def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return table[host]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return resolve


def fast(settings: Settings, **extra: Any) -> Settings:
    """Settings with the scheduler's clock turned up, for tests."""
    values: dict[str, Any] = {
        "source_refresh_s": 0.1,
        "source_poll_timeout_s": 0.5,
        "source_min_interval_s": 0.05,
        "source_max_backoff_s": 5.0,
    }
    values.update(extra)
    return msgspec.structs.replace(settings, **values)


def rss(items: list[tuple[str, str]], *, title: str = "Gadget Grumbles") -> bytes:
    """An RSS 2.0 document with (guid/link, text) items."""
    entries = "".join(
        f"<item><guid>{link}</guid><link>{link}</link><title>{text}</title>"
        f"<description>{text}</description><pubDate>Mon, 06 May 2024 1{i}:00:00 GMT</pubDate>"
        "</item>"
        for i, (link, text) in enumerate(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://feed.example/</link>{entries}</channel></rss>"
    ).encode()


def parts(
    runtime: Runtime, settings: Settings, *, resolver: Resolver, environ: dict[str, str]
) -> SourceParts:
    secrets = Secrets(settings, environ=environ, key=KEY)
    return SourceParts(
        service=SourceService(runtime.db.pool, secrets, settings, resolver=resolver),
        inbound=InboundWebhooks(runtime.db.pool, runtime.ingestor, secrets, settings),
    )


def sources_app(runtime: Runtime, source_parts: SourceParts) -> Litestar:
    """The sources routes over ``runtime``, as ``create_app`` serves them once wired in."""
    app = Litestar(
        route_handlers=SOURCE_ROUTES,
        exception_handlers=EXCEPTION_HANDLERS,
        dependencies=DEPENDENCIES,
        guards=[authenticated],
        request_class=GatewayRequest,
        debug=False,
    )
    app.state.runtime = runtime
    app.state.sources = source_parts
    return app


@contextlib.asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields the base URL."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
