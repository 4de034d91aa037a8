"""Shared pieces for the policy unit tests: fixture bundles and a valid PolicyInput."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gateway.domain.policy_input import (
    AgentInput,
    Author,
    ChannelInput,
    CustomerInput,
    MentionInput,
    PolicyInput,
    ReplyInput,
    Thread,
)
from gateway.policy import EmbeddedEngine, PolicyBundle, build_bundle, load_bundle

POLICIES = Path(__file__).parents[2] / "data" / "policies"


def _make_input(
    *,
    opted_out: bool = False,
    addressed: bool = True,
    ai_generated: bool = False,
    reply_text: str = "Sorry about the delay, we are on it.",
    contacts_24h: int = 0,
) -> PolicyInput:
    return PolicyInput(
        mention=MentionInput(
            id=1,
            channel="mastodon",
            author=Author(handle="@ann@example.social"),
            text="@brand my order is late",
            intent="complaint",
            sentiment=-0.6,
            addressed_brand=addressed,
            thread=Thread(id="t1"),
            created_at="2025-01-01T10:00:00Z",
        ),
        reply=ReplyInput(
            text=reply_text, length=len(reply_text), links=[], ai_generated=ai_generated
        ),
        agent=AgentInput(id="agent-1", roles=["agent"]),
        customer=CustomerInput(
            opted_out=opted_out,
            contacts_24h=contacts_24h,
            contacts_7d=contacts_24h,
            contacts_30d=contacts_24h,
            last_contact_at=None,
            thread_replies=0,
            replied_since_last_contact=False,
        ),
        channel=ChannelInput(name="mastodon"),
        now="2025-01-01T10:05:00Z",
    )


def _answering(value: Any) -> PolicyBundle:
    rego = msgspec.json.encode(value).decode()
    return build_bundle(
        {"engagement/decision.rego": f"package engagement\n\ndecision := {rego}\n"}, {}
    )


@pytest.fixture
def policies_dir() -> Path:
    """tests/data/policies: the fixture bundles."""
    return POLICIES


@pytest.fixture
def make_input() -> Callable[..., PolicyInput]:
    """Build a valid PolicyInput; keywords change the fields the fixture policy reads."""
    return _make_input


@pytest.fixture
def answering() -> Callable[[Any], PolicyBundle]:
    """Build a bundle whose decision is exactly the given value (rendered as JSON)."""
    return _answering


@pytest.fixture
def ok_bundle() -> PolicyBundle:
    return load_bundle(POLICIES / "ok")


@pytest.fixture
async def engines() -> AsyncIterator[Callable[..., EmbeddedEngine]]:
    """Build engines that are closed after the test."""
    made: list[EmbeddedEngine] = []

    def build(bundle: PolicyBundle, **options: Any) -> EmbeddedEngine:
        engine = EmbeddedEngine(bundle, **options)
        made.append(engine)
        return engine

    yield build
    for engine in made:
        await engine.close()
