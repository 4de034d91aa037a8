"""The OPA engine against a local OPA stand-in that evaluates with OPA's own Go engine.

What a user of the gateway would notice: a bundle reaches OPA exactly as approved, OPA
is "ready" only while it holds that bundle, OPA decides as the embedded engine does, and
every way OPA can fail (down, slow, erroring, answering nonsense) is a deny.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from gateway.domain.decisions import Decision
from gateway.domain.policy_input import (
    AgentInput,
    Author,
    ChannelInput,
    CustomerInput,
    Intent,
    MentionInput,
    PolicyInput,
    ReplyInput,
    Thread,
)
from gateway.policy import (
    EmbeddedEngine,
    PolicyBundle,
    PolicyError,
    PolicyLoadError,
    build_bundle,
    load_bundle,
)
from gateway.policy.opa import MODULE_PREFIX, OpaEngine
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.store import audit
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one, make_user
from tests.support.opa_server import Fault, OpaTestServer

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
ALLOW = 'package engagement\n\ndecision := {"outcome": "allow", "reasons": []}\n'


@pytest.fixture
def opa_server() -> Iterator[OpaTestServer]:
    with OpaTestServer.start() as server:
        yield server


@pytest.fixture(scope="module")
def bundle() -> PolicyBundle:
    return load_bundle(POLICY_DIR)


@pytest.fixture
async def engines() -> AsyncIterator[list[OpaEngine]]:
    made: list[OpaEngine] = []
    yield made
    for engine in made:
        await engine.close()


@pytest.fixture
def make_engine(engines: list[OpaEngine], opa_server: OpaTestServer) -> Any:
    def make(bundle: PolicyBundle, **options: Any) -> OpaEngine:
        options.setdefault("url", opa_server.url)
        engine = OpaEngine(bundle, **options)
        engines.append(engine)
        return engine

    return make


def _input(
    *,
    mention: str = "@acme my order #4411 still hasn't arrived after three weeks",
    reply: str = "Sorry about the wait, Dana. We have escalated order 4411 with the courier.",
    intent: Intent = "complaint",
    addressed: bool = True,
    opted_out: bool = False,
    contacts_24h: int = 0,
    ai_generated: bool = False,
    links: tuple[str, ...] = (),
    channel: str = "mastodon",
) -> PolicyInput:
    return PolicyInput(
        mention=MentionInput(
            id=7,
            channel=channel,
            author=Author(handle="@dana@social.example", display_name="Dana"),
            text=mention,
            intent=intent,
            sentiment=-0.5,
            addressed_brand=addressed,
            thread=Thread(id="t-7"),
            created_at="2025-03-01T10:00:00Z",
        ),
        reply=ReplyInput(
            text=reply, length=len(reply), links=list(links), ai_generated=ai_generated
        ),
        agent=AgentInput(id="agent-7", roles=["agent"]),
        customer=CustomerInput(
            opted_out=opted_out,
            contacts_24h=contacts_24h,
            contacts_7d=contacts_24h,
            contacts_30d=contacts_24h,
            last_contact_at=None,
            thread_replies=0,
            replied_since_last_contact=False,
        ),
        channel=ChannelInput(name=channel),
        now="2025-03-01T10:05:00Z",
    )


REALISTIC = {
    "clean complaint": _input(),
    "opted out": _input(opted_out=True),
    "not addressed, praise": _input(
        mention="acme's new sofa is lovely", intent="praise", addressed=False
    ),
    "frequency cap": _input(contacts_24h=3),
    "AI draft": _input(ai_generated=True),
    "unsolicited coupon": _input(
        reply="So sorry! Use code SORRY10 for 20% off.", links=("https://shop.example/sale/",)
    ),
    "solicited discount": _input(
        mention="@acme any discount for students?",
        intent="question",
        reply="Students get 10% off with code STUDENT10.",
    ),
    "phone echoed, email not": _input(
        mention="@acme call me on 555 123 4567",
        reply="We will call (555) 123-4567 or mail dana@example.org.",
    ),
    "legal and health": _input(
        mention="@acme my lawyer says the recall hurt my health",
        reply="We are sorry; our team will contact you.",
    ),
    "too long for bluesky": _input(channel="bluesky", reply="We are on it. " * 30),
    "blocked wording": _input(reply="Please CALM-DOWN, it is not our problem."),
}


def _assert_denied(decision: Decision, engine: OpaEngine, detail: str) -> None:
    assert decision.outcome == "deny"
    assert [reason.code for reason in decision.reasons] == ["policy_error"]
    assert decision.engine == "opa"
    assert decision.policy_revision == engine.revision
    assert decision.error is not None
    assert detail in decision.error, decision.error


# --- loading and readiness ---------------------------------------------------------------


async def test_ready_only_after_load_and_modules_are_pushed_byte_for_byte(
    bundle: PolicyBundle, opa_server: OpaTestServer, make_engine: Any
) -> None:
    engine: OpaEngine = make_engine(bundle)
    assert not await engine.ready()

    await engine.load()

    assert await engine.ready()
    expected = {MODULE_PREFIX + path: text.encode() for path, text in bundle.policy_files.items()}
    assert opa_server.modules == expected
    assert not any(module_id.endswith("_test.rego") for module_id in opa_server.modules)
    assert opa_server.data == {
        "engagement": bundle.data,
        "gateway_meta": {"revision": bundle.revision},
    }


async def test_text_reaches_opa_unchanged_even_when_unusual(
    opa_server: OpaTestServer, make_engine: Any
) -> None:
    # CRLF, a leading blank line, tabs and non-ASCII: what was approved is what runs.
    source = (
        "\r\n# Café rules ✓\r\npackage engagement\r\n\r\n"
        'decision := {\t"outcome": "allow", "reasons": []}\r\n'
    )
    odd = build_bundle({"engagement/decision.rego": source}, {})
    engine: OpaEngine = make_engine(odd)

    await engine.load()

    assert opa_server.modules == {"gateway/engagement/decision.rego": source.encode()}
    async with httpx.AsyncClient() as client:
        listed = (await client.get(f"{opa_server.url}/v1/policies")).json()["result"]
    assert [module["raw"] for module in listed] == [source]
    assert (await engine.decide(_input())).outcome == "allow"


async def test_ready_is_false_when_opa_holds_anything_else(
    bundle: PolicyBundle, opa_server: OpaTestServer, make_engine: Any
) -> None:
    engine: OpaEngine = make_engine(bundle)
    await engine.load()
    async with httpx.AsyncClient(base_url=opa_server.url) as client:
        await client.put("/v1/policies/other.rego", content=b"package other\n\nx := 1\n")
        assert not await engine.ready()  # a module nobody approved
        await client.delete("/v1/policies/other.rego")
        assert await engine.ready()
        await client.put("/v1/data/gateway_meta", json={"revision": "sha256:older"})
        assert not await engine.ready()  # another revision's marker


async def test_loading_a_new_revision_replaces_the_old_one(
    bundle: PolicyBundle, opa_server: OpaTestServer, make_engine: Any
) -> None:
    extra = (
        "package engagement\n\nimport rego.v1\n\n"
        'review_reasons contains {"code": "x", "rule": "x", "message": "x"} if false\n'
    )
    bigger = build_bundle({**bundle.files, "engagement/extra.rego": extra}, bundle.data)
    old, new = make_engine(bigger), make_engine(bundle)
    await old.load()

    await new.load()

    assert "gateway/engagement/extra.rego" not in opa_server.modules
    assert await new.ready()
    assert not await old.ready()


async def test_a_module_opa_refuses_is_a_load_error_with_file_and_line(
    opa_server: OpaTestServer, make_engine: Any
) -> None:
    # regorus has no type checker and accepts this; OPA refuses it when compiling.
    source = ALLOW + '\nbad := x if {\n\tx := 1 + "a"\n}\n'
    engine: OpaEngine = make_engine(build_bundle({"engagement/decision.rego": source}, {}))

    with pytest.raises(PolicyLoadError) as refused:
        await engine.load()

    assert refused.value.file == "engagement/decision.rego"
    assert refused.value.line == 6
    assert "OPA refused it" in refused.value.detail
    assert opa_server.modules == {}  # nothing half-rewritten was stored
    assert not await engine.ready()


async def test_loading_when_opa_is_down_is_a_policy_error(
    bundle: PolicyBundle, make_engine: Any
) -> None:
    engine: OpaEngine = make_engine(bundle, url=_closed_port_url(), load_timeout_s=1.0)

    with pytest.raises(PolicyError) as failed:
        await engine.load()

    assert not isinstance(failed.value, PolicyLoadError)
    assert "could not remove the revision marker" in str(failed.value)


# --- deciding ----------------------------------------------------------------------------


async def test_decisions_equal_the_embedded_engines(
    bundle: PolicyBundle, opa_server: OpaTestServer, make_engine: Any
) -> None:
    engine: OpaEngine = make_engine(bundle)
    await engine.load()
    embedded = EmbeddedEngine(bundle)
    try:
        for name, policy_input in REALISTIC.items():
            ours = await embedded.decide(policy_input)
            theirs = await engine.decide(policy_input)
            assert (theirs.outcome, theirs.reasons) == (ours.outcome, ours.reasons), name
            assert theirs.engine == "opa"
            assert theirs.policy_revision == bundle.revision
            assert theirs.error is None
    finally:
        await embedded.close()
    outcomes = {(await engine.decide(i)).outcome for i in REALISTIC.values()}
    assert outcomes == {"allow", "review", "deny"}


async def test_decision_id_is_opas_own(
    bundle: PolicyBundle, opa_server: OpaTestServer, make_engine: Any
) -> None:
    engine: OpaEngine = make_engine(bundle)
    await engine.load()

    decision = await engine.decide(REALISTIC["AI draft"])

    logged = opa_server.decisions[-1]
    assert decision.decision_id == logged.decision_id
    assert logged.path == "engagement/decision"
    assert logged.input["reply"]["ai_generated"] is True
    assert opa_server.requests[-1] == ("POST", "/v1/data/engagement/decision")


async def test_fifty_concurrent_decisions_match_sequential_ones(
    bundle: PolicyBundle, make_engine: Any
) -> None:
    # The stand-in evaluates one request at a time in Python threads: give the queue time.
    engine: OpaEngine = make_engine(bundle, timeout_s=30)
    await engine.load()
    inputs = list(REALISTIC.values()) * 5
    sequential = [await engine.decide(i) for i in inputs]

    concurrent = await asyncio.gather(*(engine.decide(i) for i in inputs))

    assert [(d.outcome, d.reasons) for d in concurrent] == [
        (d.outcome, d.reasons) for d in sequential
    ]
    assert len({d.decision_id for d in concurrent}) == len(inputs)


# --- failing closed ----------------------------------------------------------------------


async def test_opa_down_denies(bundle: PolicyBundle, make_engine: Any) -> None:
    engine: OpaEngine = make_engine(bundle, url=_closed_port_url())

    _assert_denied(await engine.decide(_input()), engine, "could not reach OPA")


async def test_opa_going_away_after_loading_denies(
    bundle: PolicyBundle, opa_server: OpaTestServer, make_engine: Any
) -> None:
    engine: OpaEngine = make_engine(bundle)
    await engine.load()
    assert (await engine.decide(_input())).outcome == "allow"

    opa_server.stop()

    _assert_denied(await engine.decide(_input()), engine, "could not reach OPA")
    assert not await engine.ready()


async def test_slow_opa_denies_within_the_time_limit(
    bundle: PolicyBundle, opa_server: OpaTestServer, make_engine: Any
) -> None:
    engine: OpaEngine = make_engine(bundle, timeout_s=0.2)
    await engine.load()
    opa_server.fault = Fault(status=None, delay_s=3.0)

    started = time.perf_counter()
    decision = await engine.decide(_input())

    assert time.perf_counter() - started < 1.0
    _assert_denied(decision, engine, "no decision from OPA within 0.2 s")


@pytest.mark.parametrize(
    ("fault", "detail"),
    [
        (Fault(status=500), "OPA answered 500: internal_error: injected fault"),
        (Fault(status=503, body=b"<html>busy</html>"), "OPA answered 503: a body that is not"),
        (Fault(status=200, body=b"<html>hello</html>"), "unreadable answer from OPA"),
        (Fault(status=200, body=b'{"decision_id": "d-1"}'), "undefined for this input"),
        (Fault(status=200, body=b'{"result": {"outcome": "yes", "reasons": []}}'), "malformed"),
        (Fault(status=200, body=b'{"result": null}'), "malformed"),
        (Fault(status=200, body=b'{"result": {"outcome": "allow"}}'), "malformed"),
    ],
    ids=["500", "503-html", "garbage", "undefined", "bad-outcome", "null", "no-reasons"],
)
async def test_an_answer_that_is_not_a_decision_denies(
    bundle: PolicyBundle,
    opa_server: OpaTestServer,
    make_engine: Any,
    fault: Fault,
    detail: str,
) -> None:
    engine: OpaEngine = make_engine(bundle)
    await engine.load()
    opa_server.fault = fault

    _assert_denied(await engine.decide(_input()), engine, detail)


async def test_undefined_decision_from_real_evaluation_denies_and_keeps_the_id(
    opa_server: OpaTestServer, make_engine: Any
) -> None:
    never = (
        "package engagement\n\n"
        'decision := {"outcome": "allow", "reasons": []} if input.action == "never"\n'
    )
    engine: OpaEngine = make_engine(build_bundle({"engagement/decision.rego": never}, {}))
    await engine.load()

    decision = await engine.decide(_input())

    _assert_denied(decision, engine, "undefined for this input")
    assert decision.decision_id == opa_server.decisions[-1].decision_id


async def test_a_builtin_error_in_opa_denies(opa_server: OpaTestServer, make_engine: Any) -> None:
    # An invalid regex from data: OPA must not treat the rule as merely undefined (allow).
    source = (
        "package engagement\n\nimport rego.v1\n\n"
        'decision := {"outcome": "allow", "reasons": []} if {\n'
        "\tnot regex.match(data.engagement.pattern, input.reply.text)\n}\n"
    )
    bad = build_bundle({"engagement/decision.rego": source}, {"pattern": "("})
    engine: OpaEngine = make_engine(bad)
    await engine.load()

    _assert_denied(await engine.decide(_input()), engine, "OPA answered 500: internal_error")


async def test_closed_engine_denies(bundle: PolicyBundle, make_engine: Any) -> None:
    engine: OpaEngine = make_engine(bundle)
    await engine.load()
    await engine.close()

    _assert_denied(await engine.decide(_input()), engine, "the engine is closed")
    assert not await engine.ready()


def test_bad_url_is_refused(bundle: PolicyBundle) -> None:
    for url in ("opa:8181", "http://opa:8181/v1", "ftp://opa"):
        with pytest.raises(ValueError, match="OPA url"):
            OpaEngine(bundle, url=url)


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_the_gateway_runs_on_the_opa_engine(
    settings: Settings, opa_server: OpaTestServer
) -> None:
    """GATEWAY_POLICY_ENGINE=opa: activation pushes the version to OPA, decisions are
    OPA's (with its decision_id, audited), and readiness checks OPA holds the revision."""
    opa_settings = msgspec.structs.replace(settings, policy_engine="opa", opa_url=opa_server.url)
    rt = await Runtime.start(opa_settings)
    try:
        assert rt.engine.name == "opa"
        assert await rt.engine.ready()  # type: ignore[attr-defined]
        agent = await make_user(rt, "alice", "agent")
        mention_id = await ingest_one(rt, COMPLAINT)
        proposal = await rt.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)
        assert proposal.status == "approved"
        async with rt.db.pool.acquire() as conn:
            [event] = await audit.list_events(conn, kind="proposal_decided")
        assert event.payload["decision"]["engine"] == "opa"
        assert event.payload["decision"]["decision_id"]
        opa_server.stop()  # OPA gone: not ready, and decisions fail closed
        assert not await rt.engine.ready()  # type: ignore[attr-defined]
        denied = await rt.decider.propose(mention_id=mention_id, text="Still on it.", user=agent)
        assert denied.status == "denied"
        assert [r["code"] for r in denied.reasons] == ["policy_error"]
    finally:
        await rt.close()
