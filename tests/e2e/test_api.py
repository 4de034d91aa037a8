"""The API as a client sees it: a real gateway process over loopback HTTP."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from itertools import count
from typing import Any

import httpx

from tests.e2e.conftest import Gateway

_n = count(1)


def mention(text: str, *, handle: str = "@dana@social.example", **extra: Any) -> dict[str, Any]:
    n = next(_n)
    body: dict[str, Any] = {
        "channel": "demo",
        "external_id": f"api-{n}",
        "url": f"https://demo.example/api/{n}",
        "author": {"handle": handle, "display_name": "Dana"},
        "text": text,
        "created_at": datetime.now(UTC).isoformat(),
    }
    body.update(extra)
    return body


def ingest(gw: Gateway, *mentions: dict[str, Any]) -> list[int]:
    with gw.server.client(gw.tokens["admin"]) as c:
        r = c.post("/v1/mentions", json={"mentions": list(mentions)})
    assert r.status_code == 200, r.text
    ids: list[int] = r.json()["ids"]
    return ids


def assert_problem(r: httpx.Response, status: int, *, contains: str = "") -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert contains.lower() in body["detail"].lower()
    return body


def wait_for_status(
    gw: Gateway, proposal_id: int, status: str, timeout: float = 15
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with gw.server.client(gw.tokens["auditor"]) as c:
        while True:
            body: dict[str, Any] = c.get(f"/v1/proposals/{proposal_id}").json()
            if body["status"] == status or time.monotonic() > deadline:
                assert body["status"] == status, body
                return body
            time.sleep(0.1)


COMPLAINT = "@acme my order #4411 still hasn't arrived after three weeks, this is terrible"
REPLY = "Sorry about the wait. We have escalated order 4411 with the courier today."


def test_health_and_openapi(gateway: Gateway) -> None:
    r = httpx.get(f"{gateway.server.url}/health")
    assert r.status_code == 200
    assert r.json()["database"] is True and r.json()["policy_revision"].startswith("sha256:")
    schema = httpx.get(f"{gateway.server.url}/schema/openapi.json").json()
    assert {"/v1/proposals", "/v1/mentions", "/v1/audit/verify"} <= set(schema["paths"])


def test_missing_or_wrong_token_is_401_and_wrong_role_403(gateway: Gateway) -> None:
    with gateway.server.client() as c:
        assert_problem(c.get("/v1/mentions"), 401, contains="Bearer")
    with gateway.server.client("not-a-token") as c:
        assert_problem(c.get("/v1/mentions"), 401, contains="not valid")
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        assert_problem(
            c.post("/v1/mentions", json={"mentions": [mention("hi")]}), 403, contains="auditor"
        )
    with gateway.server.client(gateway.tokens["agent"]) as c:
        assert_problem(c.get("/v1/audit"), 403)


def test_ingest_classifies_and_dedupes(gateway: Gateway) -> None:
    first = mention(COMPLAINT)
    dup_url = mention("@acme same post seen twice", url=first["url"])
    question = mention("@acme does the X200 support USB-C charging?")
    with gateway.server.client(gateway.tokens["admin"]) as c:
        r = c.post("/v1/mentions", json={"mentions": [first, dup_url, question, first]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["duplicates"] == 2
    ids = body["ids"]
    assert ids[0] == ids[1] == ids[3] and ids[2] != ids[0]
    with gateway.server.client(gateway.tokens["agent"]) as c:
        m = c.get(f"/v1/mentions/{ids[0]}").json()
        q = c.get(f"/v1/mentions/{ids[2]}").json()
    assert m["intent"] == "complaint" and m["addressed"] is True and m["status"] == "new"
    assert set(m["sentiment"]) == {"compound", "pos", "neu", "neg"}
    assert m["sentiment"]["compound"] < 0
    assert m["author"]["handle"] == "@dana@social.example"
    assert m["author"]["display_name"] == "Dana" and m["author"]["bot"] is False
    assert q["intent"] == "question"


def test_bad_input_is_400_problem_and_stores_nothing(gateway: Gateway) -> None:
    with gateway.server.client(gateway.tokens["agent"]) as c:
        before = len(c.get("/v1/mentions", params={"limit": 500}).json()["items"])
    bad_batches: list[Any] = [
        {"mentions": [mention("ok"), {**mention("x"), "created_at": "yesterday"}]},
        {"mentions": [{k: v for k, v in mention("x").items() if k != "text"}]},
        {"mentions": [{**mention("x"), "surprise": 1}]},
        {"mentions": []},
        {"mentions": [{**mention("x"), "text": ""}]},
        "not an object",
    ]
    with gateway.server.client(gateway.tokens["admin"]) as c:
        for batch in bad_batches:
            assert_problem(c.post("/v1/mentions", json=batch), 400)
        assert_problem(
            c.post(
                "/v1/mentions", content=b"{broken", headers={"content-type": "application/json"}
            ),
            400,
        )
    with gateway.server.client(gateway.tokens["agent"]) as c:
        after = len(c.get("/v1/mentions", params={"limit": 500}).json()["items"])
        assert_problem(c.post("/v1/proposals", json={"mention_id": 999999, "text": "hi"}), 404)
        assert_problem(c.post("/v1/proposals", json={"mention_id": 1, "text": ""}), 400)
        assert_problem(c.get("/v1/mentions", params={"cursor": "bogus"}), 400)
        assert_problem(c.get("/v1/mentions", params={"status": "nonsense"}), 400)
        assert_problem(c.get("/v1/mentions", params={"limit": 0}), 400)
        assert_problem(c.get("/v1/mentions/999999"), 404)
        assert_problem(c.get("/v1/no-such-thing"), 404)
        assert_problem(c.delete("/v1/mentions"), 405)
    assert after == before


def test_filters_and_cursor_pagination(gateway: Gateway) -> None:
    ids = ingest(
        gateway,
        *[mention(f"@acme why is order {i} late?") for i in range(5)],
        mention("acme headphones are meh", handle="@zed@social.example"),
    )
    with gateway.server.client(gateway.tokens["agent"]) as c:
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, "addressed": "true", "intent": "question"}
            if cursor:
                params["cursor"] = cursor
            page = c.get("/v1/mentions", params=params).json()
            seen += [m["id"] for m in page["items"]]
            assert all(m["addressed"] and m["intent"] == "question" for m in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert set(ids[:5]) <= set(seen) and ids[5] not in seen
        assert len(seen) == len(set(seen))
        neg = c.get("/v1/mentions", params={"sentiment_below": -0.3, "limit": 500}).json()
        assert all(m["sentiment"]["compound"] < -0.3 for m in neg["items"])


def test_allowed_reply_is_released_with_receipt(gateway: Gateway) -> None:
    [mention_id] = ingest(gateway, mention(COMPLAINT, handle="@fay@social.example"))
    with gateway.server.client(gateway.tokens["agent"]) as c:
        preview = c.post("/v1/proposals/preview", json={"mention_id": mention_id, "text": REPLY})
        assert preview.status_code == 200 and preview.json()["outcome"] == "allow"
        r = c.post("/v1/proposals", json={"mention_id": mention_id, "text": REPLY})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "approved"
    assert body["decision"]["outcome"] == "allow" and body["decision"]["reasons"] == []
    assert body["decision"]["policy_revision"].startswith("sha256:")
    released = wait_for_status(gateway, body["id"], "released")
    assert released["receipt"]["channel"] == "demo" and released["receipt"]["external_id"]
    sent = (gateway.data_dir / "demo-sent.jsonl").read_text()
    assert REPLY in sent


def test_preview_writes_nothing(gateway: Gateway) -> None:
    [mention_id] = ingest(gateway, mention(COMPLAINT, handle="@gus@social.example"))
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        before = c.get("/v1/audit", params={"limit": 500}).json()["items"]
    with gateway.server.client(gateway.tokens["agent"]) as c:
        r = c.post(
            "/v1/proposals/preview",
            json={"mention_id": mention_id, "text": "Use promo code SAVE20 for 20% off!"},
        )
    assert r.status_code == 200
    assert r.json()["outcome"] == "deny"
    assert "marketing_offer" in [x["code"] for x in r.json()["reasons"]]
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        after = c.get("/v1/audit", params={"limit": 500}).json()["items"]
        assert c.get("/v1/proposals", params={"mention_id": mention_id}).json()["items"] == []
    assert len(after) == len(before)


def test_denied_reply_explains_why(gateway: Gateway) -> None:
    [mention_id] = ingest(
        gateway, mention("acme's new headphones are meh", handle="@hal@social.example")
    )
    with gateway.server.client(gateway.tokens["agent"]) as c:
        r = c.post("/v1/proposals", json={"mention_id": mention_id, "text": REPLY})
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "denied"
    codes = {x["code"] for x in body["decision"]["reasons"]}
    assert "not_addressed" in codes
    assert all(x["message"] for x in body["decision"]["reasons"])


def test_review_two_person_rule(gateway: Gateway) -> None:
    [m1, m2, m3] = ingest(
        gateway, *[mention(COMPLAINT, handle=f"@rev{i}@social.example") for i in range(3)]
    )
    with gateway.server.client(gateway.tokens["agent"]) as c:
        held = c.post(
            "/v1/proposals", json={"mention_id": m1, "text": REPLY, "ai_generated": True}
        ).json()
        rejected = c.post(
            "/v1/proposals", json={"mention_id": m2, "text": REPLY, "ai_generated": True}
        ).json()
        assert_problem(c.post(f"/v1/proposals/{held['id']}/approve", json={}), 403)
    assert held["status"] == "pending_review"
    assert [x["code"] for x in held["decision"]["reasons"]] == ["ai_generated"]
    # An admin who proposed a reply can never approve it.
    with gateway.server.client(gateway.tokens["admin"]) as c:
        own = c.post(
            "/v1/proposals", json={"mention_id": m3, "text": REPLY, "ai_generated": True}
        ).json()
        assert_problem(
            c.post(f"/v1/proposals/{own['id']}/approve", json={"note": "ok"}),
            403,
            contains="cannot approve",
        )
    with gateway.server.client(gateway.tokens["compliance"]) as c:
        ok = c.post(f"/v1/proposals/{held['id']}/approve", json={"note": "fine, sent"})
        assert ok.status_code == 200 and ok.json()["status"] == "approved"
        assert ok.json()["reviewed_by"] == "carol"
        no = c.post(f"/v1/proposals/{rejected['id']}/reject", json={"note": "tone"})
        assert no.status_code == 200 and no.json()["status"] == "rejected"
        assert_problem(c.post(f"/v1/proposals/{rejected['id']}/approve", json={}), 409)
        queue = c.get("/v1/proposals", params={"status": "pending_review"}).json()["items"]
        assert own["id"] in [p["id"] for p in queue]
    wait_for_status(gateway, held["id"], "released")
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        kinds = [
            e["kind"]
            for e in c.get("/v1/audit", params={"subject": f"proposal:{held['id']}"}).json()[
                "items"
            ]
        ]
    assert kinds[:2] == ["proposal_decided", "proposal_approved"]
    assert kinds[-2:] == ["releasing", "delivered"]


def test_claims_are_enforced(gateway: Gateway) -> None:
    [mention_id] = ingest(gateway, mention(COMPLAINT, handle="@ivy@social.example"))
    with gateway.server.client(gateway.tokens["agent"]) as c:
        r = c.post(f"/v1/mentions/{mention_id}/claim")
        assert r.status_code == 200 and r.json()["claim"]["agent"] == "alice"
    with gateway.server.client(gateway.tokens["agent2"]) as c:
        assert_problem(c.post(f"/v1/mentions/{mention_id}/claim"), 409, contains="alice")
        assert_problem(
            c.post("/v1/proposals", json={"mention_id": mention_id, "text": REPLY}),
            409,
            contains="claimed by alice",
        )
    with gateway.server.client(gateway.tokens["agent"]) as c:
        r = c.post("/v1/proposals", json={"mention_id": mention_id, "text": REPLY})
        assert r.status_code == 201


def test_opt_outs_are_managed_and_audited(gateway: Gateway) -> None:
    [mention_id] = ingest(gateway, mention(COMPLAINT, handle="@jo@social.example"))
    with gateway.server.client(gateway.tokens["compliance"]) as c:
        r = c.post(
            "/v1/opt-outs",
            json={"channel": "demo", "handle": "@Jo@social.example", "reason": "asked by e-mail"},
        )
        assert r.status_code == 201, r.text
        opt_out = r.json()
        assert opt_out["handle"] == "jo@social.example"  # canonical: no leading @
        listed = c.get("/v1/opt-outs").json()["items"]
        assert opt_out["id"] in [o["id"] for o in listed]
    with gateway.server.client(gateway.tokens["agent"]) as c:
        denied = c.post("/v1/proposals", json={"mention_id": mention_id, "text": REPLY}).json()
        assert denied["status"] == "denied"
        assert "opted_out" in [x["code"] for x in denied["decision"]["reasons"]]
        assert_problem(c.delete(f"/v1/opt-outs/{opt_out['id']}"), 403)
    with gateway.server.client(gateway.tokens["compliance"]) as c:
        assert c.delete(f"/v1/opt-outs/{opt_out['id']}").status_code == 200
        assert_problem(c.delete(f"/v1/opt-outs/{opt_out['id']}"), 404)
        kinds = [
            e["kind"]
            for e in c.get("/v1/audit", params={"subject": f"opt_out:{opt_out['id']}"}).json()[
                "items"
            ]
        ]
    assert kinds == ["opt_out_added", "opt_out_removed"]


def test_audit_listing_filters_and_verify(gateway: Gateway) -> None:
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        decided = c.get("/v1/audit", params={"kind": "proposal_decided", "limit": 2}).json()
        assert decided["items"] and all(e["kind"] == "proposal_decided" for e in decided["items"])
        event = decided["items"][0]
        assert {"input", "decision"} <= set(event["payload"])
        assert event["policy_revision"].startswith("sha256:")
        nxt = c.get(
            "/v1/audit",
            params={"kind": "proposal_decided", "limit": 2, "cursor": decided["next_cursor"]},
        ).json()
        assert all(e["seq"] > decided["items"][-1]["seq"] for e in nxt["items"])
        by_actor = c.get("/v1/audit", params={"actor": "alice"}).json()["items"]
        assert by_actor and all(e["actor"] == "alice" for e in by_actor)
        verify = c.get("/v1/audit/verify").json()
    assert verify["ok"] is True and verify["events"] > 0 and verify["first_bad_seq"] is None


def test_auditor_gets_key_checkpoints_proofs_exports_and_replays(gateway: Gateway) -> None:
    ingest(gateway, *[mention(COMPLAINT, handle=f"@aud{i}@social.example") for i in range(6)])
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        key = c.get("/v1/audit/key")
        assert key.status_code == 200 and b"BEGIN PUBLIC KEY" in key.content
        deadline = time.monotonic() + 15
        checkpoints: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not checkpoints:
            checkpoints = c.get("/v1/audit/checkpoints").json()
            time.sleep(0.2)
        assert checkpoints, "no checkpoint was written"
        latest = checkpoints[-1]
        proof = c.get("/v1/audit/events/1/proof").json()
        assert proof["verified"] is True and proof["checkpoint"]["size"] >= latest["size"]
        assert_problem(c.get(f"/v1/audit/events/{10**9}/proof"), 404)
        exported = c.get("/v1/audit/export", params={"format": "jsonl"})
        assert exported.status_code == 200
        lines = exported.text.strip().splitlines()
        assert [json.loads(line)["seq"] for line in lines] == list(range(1, len(lines) + 1))
        csv_export = c.get(
            "/v1/audit/export",
            params={"format": "csv", "kind": "proposal_decided", "outcome": "allow"},
        )
        rows = csv_export.text.strip().splitlines()
        assert rows[0].startswith("seq,occurred_at,kind") and len(rows) > 1
        assert all(",proposal_decided," in row and ",allow," in row for row in rows[1:])
        decided = c.get("/v1/audit", params={"kind": "proposal_decided", "limit": 1}).json()
        seq = decided["items"][0]["seq"]
        replay = c.post(f"/v1/audit/events/{seq}/replay").json()
        assert replay["same"] is True and replay["policy_revision"].startswith("sha256:")
        assert_problem(c.post("/v1/audit/events/1/replay"), 409)


def test_auditor_reports(gateway: Gateway) -> None:
    [mention_id] = ingest(gateway, mention(COMPLAINT, handle="@rep@social.example"))
    with gateway.server.client(gateway.tokens["agent"]) as c:
        held = c.post(
            "/v1/proposals", json={"mention_id": mention_id, "text": REPLY, "ai_generated": True}
        ).json()
    with gateway.server.client(gateway.tokens["compliance"]) as c:
        assert c.post(f"/v1/proposals/{held['id']}/approve", json={"note": "ok"}).status_code == 200
    wait_for_status(gateway, held["id"], "released")
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        by_agent = c.get("/v1/audit/reports/decisions", params={"group_by": "agent"}).json()
        [alice] = [row for row in by_agent if row["group"] == "alice"]
        assert alice["by_outcome"]["review"] >= 1 and alice["by_reason"]["ai_generated"] >= 1
        assert all(r["decisions"] == sum(r["by_outcome"].values()) > 0 for r in by_agent)
        by_day = c.get("/v1/audit/reports/decisions", params={"group_by": "day"}).json()
        assert by_day and all(len(r["group"]) == 10 for r in by_day)
        released = c.get(
            "/v1/audit/reports/customer",
            params={"channel": "demo", "handle": "@REP@social.example"},
        ).json()
        assert [r["id"] for r in released] == [held["id"]]
        overrides = c.get("/v1/audit/reports/overrides").json()
        assert held["id"] in [o["id"] for o in overrides]
        assert_problem(c.get("/v1/audit/reports/decisions", params={"group_by": "x"}), 400)


def test_compliance_erases_a_customer(gateway: Gateway) -> None:
    [mention_id] = ingest(
        gateway,
        mention("@acme my son's asthma inhaler order is late", handle="@erase.me@social.example"),
    )
    with gateway.server.client(gateway.tokens["agent"]) as c:
        proposal = c.post("/v1/proposals", json={"mention_id": mention_id, "text": REPLY}).json()
        assert_problem(
            c.post(
                "/v1/subjects/erase", json={"channel": "demo", "handle": "@erase.me@social.example"}
            ),
            403,
        )
    with gateway.server.client(gateway.tokens["compliance"]) as c:
        r = c.post(
            "/v1/subjects/erase", json={"channel": "demo", "handle": "@erase.me@social.example"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["mentions_scrubbed"] == 1
        unseen = c.post("/v1/subjects/erase", json={"channel": "demo", "handle": "@never.seen@x"})
        assert unseen.status_code == 200, unseen.text  # erased all the same: suppressed
        assert unseen.json()["mentions_scrubbed"] == 0
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        events = c.get("/v1/audit", params={"subject": f"proposal:{proposal['id']}"}).json()
        decided = events["items"][0]
        assert decided["payload"]["input"]["mention"]["text"] == "[erased]"
        assert c.get(f"/v1/mentions/{mention_id}").json()["text"] == ""
        assert c.get("/v1/audit/verify").json()["ok"] is True
        assert_problem(c.post(f"/v1/audit/events/{decided['seq']}/replay"), 409, contains="erased")
