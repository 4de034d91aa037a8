"""Evidence an auditor can take away: the bundle, the export's customer filter, reports."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from gateway.policy import bundle_revision
from tests.e2e.conftest import Gateway
from tests.e2e.server import REPO, run_cli
from tests.e2e.test_api import COMPLAINT, REPLY, ingest, mention, wait_for_status


def _verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "verify", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _propose(gateway: Gateway, handle: str) -> dict[str, Any]:
    [mention_id] = ingest(gateway, mention(COMPLAINT, handle=handle))
    with gateway.server.client(gateway.tokens["agent"]) as c:
        r = c.post("/v1/proposals", json={"mention_id": mention_id, "text": REPLY})
    assert r.status_code in (200, 201), r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_api_bundle_verifies_offline_with_nothing_else(
    gateway: Gateway, tmp_path: Path
) -> None:
    _propose(gateway, "@bundle@social.example")
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        r = c.get("/v1/audit/bundle")
        head = c.get("/v1/audit/verify").json()["events"]
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/gzip"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="audit-evidence-')
    bundle = tmp_path / "evidence.tar.gz"
    bundle.write_bytes(r.content)
    with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tar:
        names = tar.getnames()
        readme = tar.extractfile("audit-evidence/README.txt")
        assert readme is not None
        text = readme.read().decode()
    assert {
        "audit-evidence/README.txt",
        "audit-evidence/audit.jsonl",
        "audit-evidence/audit-key.pem",
    } <= set(names)
    assert any(n.startswith("audit-evidence/checkpoints/checkpoint-") for n in names)
    assert "./dev verify audit-evidence-" in text and "--bundle" in text

    done = _verify("--bundle", str(bundle))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ok: ") and lines[0].endswith(", 0 unanchored")
    events = int(lines[0].split()[1])
    assert 0 < events <= head
    assert "from the bundle" in lines[-1]

    # The folder it extracts to verifies the same way, through --export too.
    with tarfile.open(bundle, "r:gz") as tar:
        tar.extractall(tmp_path / "out", filter="data")
    folder = _verify("--export", str(tmp_path / "out"))
    assert folder.returncode == 0, folder.stdout + folder.stderr
    assert folder.stdout.splitlines()[0] == lines[0]


def test_a_rewritten_bundle_fails(gateway: Gateway, tmp_path: Path) -> None:
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        content = c.get("/v1/audit/bundle").content
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
        tar.extractall(tmp_path / "b", filter="data")
    export = tmp_path / "b" / "audit-evidence" / "audit.jsonl"
    lines = export.read_bytes().splitlines(keepends=True)
    lines[0] = lines[0].replace(b'"actor":"', b'"actor":"x', 1)
    export.write_bytes(b"".join(lines))
    done = _verify("--bundle", str(tmp_path / "b"))
    assert done.returncode == 1
    assert done.stdout.startswith("BROKEN: ")
    assert "event 1 was changed after it was written" in done.stderr


def test_the_cli_export_writes_a_bundle_and_dev_verify_checks_it(
    gateway: Gateway, tmp_path: Path
) -> None:
    _propose(gateway, "@clibundle@social.example")
    out = tmp_path / "evidence.tar.gz"
    done = run_cli(gateway.env, "audit", "export", "--format", "bundle", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}: events 1..")
    verified = subprocess.run(
        [str(REPO / "dev"), "verify", out.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("ok: ")


def test_the_customer_filter_returns_every_event_about_the_customer(gateway: Gateway) -> None:
    """Approvals, releases and deliveries carry the customer's subject id, like decisions."""
    handle = "@quinn@social.example"
    [first, second] = ingest(
        gateway, mention(COMPLAINT, handle=handle), mention(COMPLAINT, handle=handle)
    )
    with gateway.server.client(gateway.tokens["agent"]) as c:
        held = c.post(
            "/v1/proposals", json={"mention_id": first, "text": REPLY, "ai_generated": True}
        ).json()
        refused = c.post(
            "/v1/proposals", json={"mention_id": second, "text": REPLY, "ai_generated": True}
        ).json()
    assert held["status"] == refused["status"] == "pending_review"
    with gateway.server.client(gateway.tokens["compliance"]) as c:
        assert c.post(f"/v1/proposals/{held['id']}/approve", json={"note": "ok"}).status_code == 200
        assert (
            c.post(f"/v1/proposals/{refused['id']}/reject", json={"note": "no"}).status_code == 200
        )
    wait_for_status(gateway, held["id"], "released")
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        r = c.get("/v1/audit/export", params={"format": "jsonl", "customer": handle})
    assert r.status_code == 200, r.text
    events = [json.loads(line) for line in r.text.splitlines()]
    by_proposal: dict[str, list[str]] = {}
    for event in events:
        by_proposal.setdefault(event["subject"], []).append(event["kind"])
    assert by_proposal == {
        f"proposal:{held['id']}": [
            "proposal_decided",
            "proposal_approved",
            "releasing",
            "delivered",
        ],
        f"proposal:{refused['id']}": ["proposal_decided", "proposal_rejected"],
    }
    assert len({event["payload"]["subject_id"] for event in events}) == 1


def test_the_csv_export_names_its_charset_once(gateway: Gateway) -> None:
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        r = c.get("/v1/audit/export", params={"format": "csv", "kind": "proposal_decided"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"


def test_the_decisions_report_counts_each_decision_once(gateway: Gateway) -> None:
    """Totals per outcome add up to the decisions made; reasons are counted apart."""
    mentions = ingest(
        gateway,
        mention(COMPLAINT, handle="@rpt1@social.example"),
        mention("acme's new headphones are meh", handle="@rpt2@social.example"),
    )
    with gateway.server.client(gateway.tokens["agent2"]) as c:
        for mention_id in mentions:
            r = c.post(
                "/v1/proposals",
                json={"mention_id": mention_id, "text": REPLY, "ai_generated": True},
            )
            assert r.status_code == 201, r.text
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        made = c.get(
            "/v1/audit", params={"kind": "proposal_decided", "actor": "bob", "limit": 500}
        ).json()["items"]
        r = c.get("/v1/audit/reports/decisions", params={"group_by": "agent"})
    assert r.status_code == 200, r.text
    [bob] = [group for group in r.json() if group["group"] == "bob"]
    codes = [{x["code"] for x in e["payload"]["decision"]["reasons"]} for e in made]
    assert any(len(c) >= 2 for c in codes), "the test needs a decision with several reasons"
    outcomes = [e["payload"]["decision"]["outcome"] for e in made]
    assert bob == {
        "group": "bob",
        "decisions": len(made),
        "by_outcome": {o: outcomes.count(o) for o in sorted(set(outcomes))},
        "by_reason": {code: sum(code in c for c in codes) for code in sorted(set().union(*codes))},
    }


def test_the_customer_report_takes_an_encoded_handle_and_refuses_blank_params(
    gateway: Gateway,
) -> None:
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        ok = c.get(
            "/v1/audit/reports/customer",
            params={"channel": "demo", "handle": "@quinn@social.example"},
        )
        assert ok.status_code == 200 and isinstance(ok.json(), list)
        blank = c.get("/v1/audit/reports/customer", params={"channel": "demo", "handle": " "})
        missing = c.get("/v1/audit/reports/customer", params={"channel": "demo"})
    for r in (blank, missing):
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")


NUMBERS_JSON = (
    b'{"negative_zero": -0.0, "huge": 1e300, "long": 12345678901234567890.5,'
    b' "big_integer": 123456789012345678901234567890}'
)


def test_every_revision_ever_active_is_served_byte_for_byte_and_replays(
    gateway: Gateway,
) -> None:
    """A draft whose numbers JSONB would change is enforced, served and replayed as drafted."""
    with gateway.server.client(gateway.tokens["compliance"]) as c:
        active = c.get("/v1/policies/state").json()["active_revision"]
        current = c.get(f"/v1/policies/{active}").json()
        body = (
            b'{"description": "numbers", "files": '
            + json.dumps(current["files"]).encode()
            + b', "data": '
            + json.dumps(current["data"]).encode()[:-1]
            + b', "numbers": '
            + NUMBERS_JSON
            + b"}}"
        )
        created = c.post("/v1/policies", content=body, headers={"Content-Type": "application/json"})
        assert created.status_code == 201, created.text
        revision = created.json()["revision"]
    with gateway.server.client(gateway.tokens["compliance2"]) as c:
        r = c.post(f"/v1/policies/{revision}/activate")
        assert r.status_code == 200, r.text
    proposal = _propose(gateway, "@numbers@social.example")
    assert proposal["decision"]["policy_revision"] == revision
    with gateway.server.client(gateway.tokens["auditor"]) as c:
        activations = c.get("/v1/audit", params={"kind": "policy_activated", "limit": 100}).json()[
            "items"
        ]
        revisions = {e["payload"]["revision"] for e in activations}
        assert revision in revisions
        for rev in revisions:
            served = c.get(f"/v1/policies/{rev}")
            assert served.status_code == 200, served.text
            version = served.json()
            assert bundle_revision(version["files"], version["data"]) == rev
        served_numbers = c.get(f"/v1/policies/{revision}").json()["data"]["numbers"]
        assert served_numbers == json.loads(NUMBERS_JSON)
        assert str(served_numbers["negative_zero"]) == "-0.0"
        replayed = c.post(f"/v1/audit/events/{proposal['audit_seq']}/replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["policy_revision"] == revision and replayed.json()["same"] is True
