"""Compliance work from the CLI (review, opt-outs, erasure) acts as the officer whose token
it gets, through the same services as the API: refused without a token or with a role the
API would refuse, and audited under the officer's name."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets

import asyncpg
import pytest

from gateway import cli_people
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.store import users
from tests.integration.support import COMPLAINT, ingest_one


def cli(settings: Settings, *argv: str, token: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway")
    cli_people.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    args.person_token = token
    return cli_people.run(args, settings)


async def _prepare(settings: Settings) -> tuple[dict[str, str], int]:
    """Tokens per user, and a reply held for review (AI-drafted)."""
    rt = await Runtime.start(settings)
    try:
        tokens: dict[str, str] = {}
        async with rt.db.pool.acquire() as conn:
            for name, role in (("carol", "compliance"), ("alice", "agent")):
                tokens[name] = secrets.token_hex(16)
                await users.add_user(conn, name=name, role=role, token=tokens[name])
            alice = await users.user_by_token(conn, tokens["alice"])
        assert alice is not None
        mention_id = await ingest_one(rt, COMPLAINT)
        held = await rt.decider.propose(
            mention_id=mention_id,
            text="Sorry for the delay, we have asked the courier today.",
            user=alice,
            ai_generated=True,
        )
        assert held.status == "pending_review", held
        return tokens, held.id
    finally:
        await rt.close()


async def _events(dsn: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT kind, actor FROM audit_events WHERE kind IN"
            " ('proposal_approved', 'opt_out_added', 'opt_out_removed', 'subject_erased')"
            " ORDER BY seq"
        )
    finally:
        await conn.close()
    return [(r["kind"], r["actor"]) for r in rows]


def test_review_opt_outs_and_erasure_act_as_the_token(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens, held = asyncio.run(_prepare(settings))
    capsys.readouterr()

    assert cli(settings, "review", "approve", str(held)) == 1
    assert "pass your API token with --token TOKEN" in capsys.readouterr().err
    assert cli(settings, "review", "approve", str(held), token=tokens["alice"]) == 1
    assert "your role is agent; this needs compliance" in capsys.readouterr().err
    assert cli(settings, "review", "approve", str(held), "--note", "ok", token="forged") == 1
    assert "not valid" in capsys.readouterr().err
    assert cli(settings, "review", "approve", str(held), token=tokens["carol"]) == 0
    approved = json.loads(_json(capsys))
    assert approved["status"] == "approved" and approved["reviewed_by"] == "carol"

    opt_in = ("opt-outs", "add", "--channel", "demo", "--handle", "@dana@social.example")
    assert cli(settings, *opt_in, token=tokens["alice"]) == 1
    capsys.readouterr()
    assert cli(settings, *opt_in, "--reason", "asked by DM", token=tokens["carol"]) == 0
    opt_out = json.loads(_json(capsys))
    lift = ("opt-outs", "remove", str(opt_out["id"]), "--reason", "asked again by DM")
    assert cli(settings, *lift, token=tokens["carol"]) == 0
    assert json.loads(_json(capsys))["removed_reason"] == "asked again by DM"

    erase = ("subjects", "erase", "--channel", "demo", "--handle", "@dana@social.example")
    assert cli(settings, *erase) == 1
    capsys.readouterr()
    invalid = ("subjects", "erase", "--channel", "demo", "--handle", "not a handle")
    assert cli(settings, *invalid, token=tokens["carol"]) == 1
    assert "error:" in capsys.readouterr().err
    assert cli(settings, *erase, token=tokens["carol"]) == 0
    capsys.readouterr()

    assert settings.database_url is not None
    assert asyncio.run(_events(settings.database_url)) == [
        ("proposal_approved", "carol"),
        ("opt_out_added", "carol"),
        ("opt_out_removed", "carol"),
        ("subject_erased", "carol"),
    ]


def _json(capsys: pytest.CaptureFixture[str]) -> str:
    """The JSON document the command printed (log lines may precede it)."""
    out = capsys.readouterr().out
    return out[out.index("{") :]
