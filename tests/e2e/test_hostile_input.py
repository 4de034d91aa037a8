"""Hostile and careless input against a real gateway process: every bad input is a 4xx
problem+json (never a 500), the token is checked before a body is read, and nothing an
unauthenticated caller sends changes state or reveals configuration (issue 10, points 4-7)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Gateway
from tests.e2e.test_api import assert_problem

PUBLIC_OPERATIONS = {("GET", "/v1/audit/key"), ("POST", "/v1/webhooks/{source}")}


def operations(gw: Gateway) -> list[tuple[str, str]]:
    schema = httpx.get(f"{gw.server.url}/schema/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith("/v1/")
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def log_has_traceback(gw: Gateway) -> bool:
    text = gw.server.logs()
    return "Traceback" in text or '"request_failed"' in text


def test_every_v1_operation_checks_the_token_before_reading_the_body(gateway: Gateway) -> None:
    ops = operations(gateway)
    assert len(ops) > 30
    garbage = b'{"surprise": [1, {"x": "\\u0000"}], "mentions": 7}'
    with gateway.server.client() as c:
        for method, path in ops:
            if (method, path) in PUBLIC_OPERATIONS:
                continue
            r = c.request(
                method,
                concrete(path),
                content=garbage,
                headers={"content-type": "application/json"},
            )
            body = assert_problem(r, 401, contains="Bearer")
            assert "errors" not in body and "surprise" not in r.text and "mentions" not in r.text
            assert "WWW-Authenticate" in r.headers
    with gateway.server.client("wrong-token") as c:
        r = c.post(
            "/v1/policies", content=b"[" * 2000, headers={"content-type": "application/json"}
        )
        assert_problem(r, 401, contains="not valid")


@pytest.mark.parametrize("depth", [33, 2000, 100_000])
def test_deeply_nested_json_is_400_without_a_traceback(gateway: Gateway, depth: int) -> None:
    nested = b'{"files": {"a.rego": "package a"}, "data": {"x": ' + b"[" * depth
    nested += b"]" * depth + b"}}"
    with gateway.server.client(gateway.tokens["compliance"]) as c:
        assert_problem(
            c.post("/v1/policies", content=nested, headers={"content-type": "application/json"}),
            400,
            contains="nests",
        )
    with gateway.server.client(gateway.tokens["admin"]) as c:
        r = c.post(
            "/v1/sources",
            content=b'{"name": "n", "kind": "rss", "config": {"url": ' + b"[" * depth + b"}}",
            headers={"content-type": "application/json"},
        )
        assert_problem(r, 400)
    assert not log_has_traceback(gateway)


def test_json_nested_within_the_cap_is_accepted(gateway: Gateway) -> None:
    data: Any = "leaf"
    for _ in range(20):
        data = {"d": data}
    files = {"engagement/x.rego": "package engagement.x\n\nimport rego.v1\n\nok := true\n"}
    with gateway.server.client(gateway.tokens["compliance"]) as c:
        r = c.post("/v1/policies", json={"files": files, "data": {"deep": data}})
    assert r.status_code != 400 or "nests" not in r.text, r.text


def test_an_oversized_body_is_413(gateway: Gateway) -> None:
    big = b'{"files": {"a.rego": "' + b"x" * (3 * 1024 * 1024) + b'"}}'
    with gateway.server.client(gateway.tokens["compliance"]) as c:
        r = c.post("/v1/policies", content=big, headers={"content-type": "application/json"})
    assert_problem(r, 413)


def test_the_checkpoint_key_is_deliberately_public(gateway: Gateway) -> None:
    with gateway.server.client() as c:
        anonymous = c.get("/v1/audit/key")
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        signed_in = c.get("/v1/audit/key")
    assert anonymous.status_code == 200, anonymous.text
    assert anonymous.text.startswith("-----BEGIN PUBLIC KEY-----")
    assert anonymous.content == signed_in.content
    api_doc = (gateway_repo() / "docs" / "api.md").read_text()
    assert "`GET /v1/audit/key`" in api_doc and "no token" in api_doc


def gateway_repo() -> Any:
    from tests.e2e.server import REPO

    return REPO


BIG = str(2**63)  # 9223372036854775808: one past the largest 64-bit integer
OLD = "0001-01-01T00:00:00+23:59"  # before year 1 once converted to UTC


def _mention(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "demo",
        "external_id": "hostile-1",
        "author": {"handle": "@dana"},
        "text": "@acme hello",
        "created_at": "2024-05-06T10:00:00Z",
    }
    body.update(extra)
    return {"mentions": [body]}


def _draft(files: dict[str, str] | None = None, data: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"files": files or {"engagement/x.rego": "package engagement.x\n"}}
    if data is not None:
        body["data"] = data
    return body


# (role, method, path, query, json body, the field the answer must name)
HOSTILE: list[tuple[str, str, str, dict[str, str] | None, Any, str]] = [
    ("admin", "POST", "/v1/mentions", None, _mention(channel="de\u0000mo"), "channel"),
    ("admin", "POST", "/v1/mentions", None, _mention(thread_id="t\u0000"), "thread_id"),
    ("admin", "POST", "/v1/mentions", None, _mention(in_reply_to="\u0000"), "in_reply_to"),
    ("admin", "POST", "/v1/mentions", None, _mention(visibility="pub\u0000"), "visibility"),
    ("admin", "POST", "/v1/mentions", None, _mention(text="hi \u0000 there"), "text"),
    ("admin", "POST", "/v1/mentions", None, _mention(author={"handle": "@d\u0000"}), "handle"),
    ("compliance", "POST", "/v1/subjects/erase", None, {"channel": "demo", "handle": "@d\u0000"},
     "handle"),
    ("compliance", "POST", "/v1/opt-outs", None, {"channel": "demo\u0000", "handle": "@d"},
     "channel"),
    ("compliance", "POST", "/v1/policies", None, _draft({"a\u0000.rego": "package a\n"}),
     "files"),
    ("compliance", "POST", "/v1/policies", None, _draft({"a.rego": "package a\u0000\n"}),
     "files"),
    ("compliance", "POST", "/v1/policies", None, _draft(data={"k": "v\u0000"}), "data"),
    ("compliance", "POST", "/v1/policies", None, _draft(data={"k\u0000": 1}), "data"),
    ("compliance", "POST", "/v1/policies", None, {**_draft(), "parent": "\u0000"}, "parent"),
    ("auditor", "GET", "/v1/audit", {"kind": "x\u0000"}, None, "kind"),
    ("agent", "GET", "/v1/mentions", {"sentiment_below": "nan"}, None, "sentiment_below"),
    ("agent", "GET", "/v1/mentions", {"sentiment_above": "-inf"}, None, "sentiment_above"),
    ("agent", "GET", "/v1/mentions", {"sentiment_above": "1.5"}, None, "sentiment_above"),
    ("auditor", "GET", "/v1/audit", {"actor": "\u0000"}, None, "actor"),
    ("auditor", "GET", "/v1/audit", {"subject": "\u0000"}, None, "subject"),
    ("auditor", "GET", "/v1/audit", {"since": OLD}, None, "since"),
    ("auditor", "GET", "/v1/audit", {"until": OLD}, None, "until"),
    ("auditor", "GET", "/v1/audit", {"cursor": BIG}, None, "cursor"),
    ("auditor", "GET", "/v1/proposals", {"agent": "\u0000"}, None, "agent"),
    ("auditor", "GET", "/v1/proposals", {"mention_id": BIG}, None, "mention_id"),
    ("auditor", "GET", "/v1/proposals", {"cursor": "\u00b2"}, None, "cursor"),
    ("auditor", "GET", "/v1/mentions", {"channel": "\u0000"}, None, "channel"),
    ("auditor", "GET", "/v1/mentions", {"cursor": "\u2460"}, None, "cursor"),
    ("auditor", "GET", "/v1/mentions", {"cursor": "\u00b2"}, None, "cursor"),
    ("auditor", "GET", "/v1/mentions", {"cursor": "99999999999999999999"}, None, "cursor"),
    ("compliance", "GET", "/v1/opt-outs", {"cursor": BIG}, None, "cursor"),
    ("auditor", "GET", f"/v1/mentions/{BIG}", None, None, "mention_id"),
    ("agent", "POST", f"/v1/mentions/{BIG}/claim", None, None, "mention_id"),
    ("auditor", "GET", f"/v1/proposals/{BIG}", None, None, "proposal_id"),
    ("compliance", "POST", f"/v1/proposals/{BIG}/approve", None, None, "proposal_id"),
    ("compliance", "DELETE", f"/v1/opt-outs/{BIG}", None, None, "opt_out_id"),
    ("agent", "POST", "/v1/proposals", None, {"mention_id": 2**63, "text": "hi"}, "mention_id"),
    ("agent", "POST", "/v1/proposals/preview", None, {"mention_id": 2**64, "text": "hi"},
     "mention_id"),
    ("agent", "POST", "/v1/proposals", None, {"mention_id": 1, "text": "a\u0000"}, "text"),
    ("auditor", "GET", "/v1/audit/checkpoints", {"limit": "-1"}, None, "limit"),
    ("auditor", "GET", "/v1/audit/checkpoints", {"after": BIG}, None, "after"),
    ("auditor", "GET", f"/v1/audit/checkpoints/{BIG}", None, None, "size"),
    ("auditor", "GET", "/v1/audit/events/1/proof", {"checkpoint": BIG}, None, "checkpoint"),
    ("auditor", "GET", f"/v1/audit/events/{BIG}/proof", None, None, "seq"),
    ("auditor", "GET", f"/v1/audit/checkpoints/1/consistency/{BIG}", None, None, "new"),
    ("auditor", "POST", f"/v1/audit/events/{BIG}/replay", None, None, "seq"),
    ("auditor", "GET", "/v1/audit/export", {"kind": "\u0000"}, None, "kind"),
    ("auditor", "GET", "/v1/audit/export", {"customer": "demo:@d\u0000"}, None, "customer"),
    ("auditor", "GET", "/v1/audit/export", {"since": OLD}, None, "since"),
    ("auditor", "GET", "/v1/audit/export", {"reason": "\u0000"}, None, "reason"),
    ("auditor", "GET", "/v1/audit/reports/decisions", {"since": OLD}, None, "since"),
    ("auditor", "GET", "/v1/audit/reports/customer", {"channel": "\u0000", "handle": "x"}, None,
     "channel"),
    ("compliance", "GET", "/v1/sources/%00", None, None, "name"),
    ("admin", "PATCH", "/v1/sources/%00", None, {"enabled": False}, "name"),
    ("admin", "DELETE", "/v1/sources/%00", None, None, "name"),
    ("admin", "POST", "/v1/sources", None, {"name": "a\u0000", "kind": "rss"}, "name"),
    ("admin", "POST", "/v1/sources", None,
     {"name": "feed", "kind": "rss", "config": {"url": "https://x.example/\u0000"}}, "url"),
    ("admin", "POST", "/v1/users/%00/disable", None, None, "name"),
    ("admin", "POST", "/v1/users/a%00/rotate", None, None, "name"),
    ("compliance", "POST", f"/v1/policies/requests/{BIG}/confirm", None, None, "request_id"),
    ("compliance", "GET", "/v1/policies/%00", None, None, "revision"),
    ("compliance", "GET", "/v1/policies/%00/diff/x", None, None, "old"),
    ("compliance", "POST", "/v1/policies/%00/test", None, None, "revision"),
    ("compliance", "POST", "/v1/policies/x/impact", None, {"since": OLD}, "since"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("role", "method", "path", "query", "body", "field"),
    HOSTILE,
    ids=[f"{m} {p} {q or ''}{'body' if b is not None else ''} {f}" for _, m, p, q, b, f in HOSTILE],
)
def test_hostile_input_is_a_400_naming_the_field(
    gateway: Gateway,
    role: str,
    method: str,
    path: str,
    query: dict[str, str] | None,
    body: Any,
    field: str,
) -> None:
    with gateway.server.client(gateway.tokens[role]) as c:
        r = c.request(method, path, params=query, json=body)
    problem = assert_problem(r, 400)
    named = problem["detail"] + " ".join(str(e.get("key", "")) for e in problem.get("errors", []))
    assert field in named, problem
    assert not log_has_traceback(gateway)


@pytest.mark.parametrize("name", ["%00", "x%00", "%C2%B2"])
def test_a_hostile_webhook_name_gets_the_uniform_refusal(gateway: Gateway, name: str) -> None:
    with gateway.server.client() as c:
        r = c.post(f"/v1/webhooks/{name}", json={"mentions": []})
    body = assert_problem(r, 401)
    assert "\x00" not in body["detail"] and "²" not in body["detail"]
