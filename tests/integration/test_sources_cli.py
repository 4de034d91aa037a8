"""``python -m gateway sources ...`` on the real database (the CLI functions, in-process)."""

from __future__ import annotations

import argparse
import asyncio
import io
import secrets
import stat

import asyncpg
import pytest

from gateway import cli_sources
from gateway.settings import Settings
from gateway.store import users

PUBLIC = "93.184.216.34"  # literal addresses: no DNS needed


def sources(settings: Settings, *argv: str, token: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway")
    cli_sources.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["sources", *argv])
    if token is not None and "person_token" in vars(args):
        args.person_token = token
    return cli_sources.run(args, settings)


async def _add_user(dsn: str, name: str, role: str) -> str:
    token = secrets.token_hex(16)
    conn = await asyncpg.connect(dsn)
    try:
        await users.add_user(conn, name=name, role=role, token=token)
    finally:
        await conn.close()
    return token


def add_user(settings: Settings, name: str, role: str) -> str:
    assert settings.database_url is not None
    return asyncio.run(_add_user(settings.database_url, name, role))


async def _rows(dsn: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


def rows(settings: Settings, sql: str) -> list[asyncpg.Record]:
    assert settings.database_url is not None
    return asyncio.run(_rows(settings.database_url, sql))


def test_sources_are_added_listed_and_removed_from_the_cli(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sources(settings, "list") == 0
    assert "no sources configured" in capsys.readouterr().out
    root = add_user(settings, "root", "admin")

    url = f"https://{PUBLIC}/feed"
    assert (
        sources(
            settings, "add", "blog", "--kind", "rss", "--url", url, "--interval", "300", token=root
        )
        == 0
    )
    assert "added blog (rss on channel rss, every 300 s, enabled)" in capsys.readouterr().out

    code = sources(
        settings,
        "add", "masto", "--kind", "mastodon", "--base-url", f"https://{PUBLIC}",
        "--access-token", "env:GATEWAY_SOURCE_SECRET_MASTODON", "--brand-account-id", "43",
        "--hashtag", "acme", token=root,
    )  # fmt: skip
    assert code == 0
    assert "secret env:GATEWAY_SOURCE_SECRET_MASTODON" in capsys.readouterr().out

    monkeypatch.setattr("sys.stdin", io.StringIO("whsec-from-stdin\n"))
    assert sources(settings, "add", "crm", "--kind", "webhook", "--secret", "-", token=root) == 0
    out = capsys.readouterr().out
    assert "secret stored" in out and "POST /v1/webhooks/crm" in out
    key_file = settings.data_dir / "secrets.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    code = sources(
        settings, "add", "lan", "--kind", "rss", "--url", "http://127.0.0.1:9/feed",
        "--allow-private", "--disabled", token=root,
    )  # fmt: skip
    assert code == 0
    capsys.readouterr()

    assert sources(settings, "list") == 0
    listing = capsys.readouterr().out
    assert [line.split()[0] for line in listing.splitlines()] == ["blog", "crm", "lan", "masto"]
    assert "whsec" not in listing

    assert sources(settings, "disable", "blog", token=root) == 0
    assert "disabled blog" in capsys.readouterr().out
    assert sources(settings, "remove", "blog", token=root) == 0
    assert "removed blog" in capsys.readouterr().out

    stored = rows(settings, "SELECT row_to_json(s)::text AS r FROM sources s")
    assert all("whsec-from-stdin" not in r["r"] for r in stored)
    events = rows(
        settings, "SELECT kind, actor, payload::text AS p FROM audit_events"
        " WHERE subject LIKE 'source:%' ORDER BY seq",
    )  # fmt: skip
    assert [e["kind"] for e in events] == [
        "source_added", "source_added", "source_added", "source_added",
        "source_updated", "source_removed",
    ]  # fmt: skip
    assert {e["actor"] for e in events} == {"root"}  # the admin whose token it was
    assert all("whsec-from-stdin" not in e["p"] for e in events)


def test_the_cli_refuses_what_the_api_refuses(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    root = add_user(settings, "root", "admin")
    code = sources(
        settings, "add", "bad", "--kind", "rss", "--url", "http://10.0.0.5/feed", token=root
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "refused: config.url resolves to a private address 10.0.0.5" in err
    base = ("add", "m", "--kind", "mastodon", "--base-url", f"https://{PUBLIC}")
    assert sources(settings, *base, token=root) == 1
    assert "needs its token" in capsys.readouterr().err
    assert sources(settings, "remove", "nope", token=root) == 1
    assert "no source named 'nope'" in capsys.readouterr().err


def test_the_cli_refuses_an_env_secret_outside_the_allow_list(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    root = add_user(settings, "root", "admin")
    code = sources(
        settings,
        "add", "masto", "--kind", "mastodon", "--base-url", f"https://{PUBLIC}",
        "--access-token", "env:DATABASE_URL", token=root,
    )  # fmt: skip
    assert code != 0
    err = capsys.readouterr().err
    assert "secret env:DATABASE_URL is refused" in err and "GATEWAY_SOURCE_SECRET_" in err
    assert rows(settings, "SELECT name FROM sources") == []


def test_changes_need_an_admin_token(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    carol = add_user(settings, "carol", "compliance")
    feed = ("add", "blog", "--kind", "rss", "--url", f"https://{PUBLIC}/feed")
    assert sources(settings, *feed) == 1
    assert "pass your API token with --token TOKEN" in capsys.readouterr().err
    assert sources(settings, *feed, token=carol) == 1
    assert "your role is compliance; this needs admin" in capsys.readouterr().err
    assert sources(settings, "list") == 0
    assert "no sources configured" in capsys.readouterr().out
