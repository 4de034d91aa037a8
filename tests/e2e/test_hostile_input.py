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
