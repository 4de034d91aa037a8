"""The verification badge: chain and checkpoints verified against the database, each run
recorded; and evidence bundles made for a filter that the offline verifier accepts."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import asyncpg

from gateway.audit.bundle import build_evidence
from gateway.audit.verification import last_verification, verify_log
from gateway.domain.records import User
from gateway.pipeline.log_search import LogFilter, selection_for
from gateway.runtime import Runtime
from tests.conftest import REPO
from tests.integration.support import COMPLAINT, GOOD_REPLY, ingest_one


async def _decisions(rt: Runtime, agent: User, handles: list[str]) -> None:
    for handle in handles:
        mention_id = await ingest_one(rt, COMPLAINT, handle=handle)
        await rt.decider.propose(mention_id=mention_id, text=GOOD_REPLY, user=agent)


async def _checkpoint(rt: Runtime) -> int:
    assert rt.checkpointer is not None
    async with rt.db.pool.acquire() as conn:
        checkpoint = await rt.checkpointer.checkpoint(conn)
    assert checkpoint is not None
    return checkpoint.size


async def test_a_verification_checks_checkpoints_and_is_recorded(
    runtime: Runtime, agent: User
) -> None:
    assert await last_verification(runtime.db.pool) is None
    await _decisions(runtime, agent, ["@a@social.example", "@b@social.example"])
    size = await _checkpoint(runtime)
    await _decisions(runtime, agent, ["@c@social.example"])  # after it: unanchored
    result = await verify_log(runtime.db.pool, runtime.audit_public_pem, by="erin")
    assert result.ok, result.problems
    assert result.checkpoints_verified >= 1
    assert result.anchored == size and result.unanchored == result.events - size > 0
    latest = await last_verification(runtime.db.pool)
    assert latest == result  # recorded: who, when, what


async def test_a_rewritten_tail_fails_against_the_checkpoints(
    runtime: Runtime, agent: User, database_url: str
) -> None:
    """Removing the last events and rewinding the head leaves a chain that verifies on
    its own; the signed checkpoint covering them makes the badge fail."""
    await _decisions(runtime, agent, ["@a@social.example", "@b@social.example"])
    size = await _checkpoint(runtime)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        await conn.execute("ALTER TABLE audit_chain_head DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM audit_events WHERE seq = $1", size)
        await conn.execute(
            "UPDATE audit_chain_head SET seq = seq - 1,"
            " hash = (SELECT hash FROM audit_events WHERE seq = $1)",
            size - 1,
        )
    finally:
        await conn.close()
    assert (await runtime.verify_chain()).ok  # the chain alone cannot tell
    result = await verify_log(runtime.db.pool, runtime.audit_public_pem, by="erin")
    assert not result.ok
    assert result.first_bad_seq == size
    assert any("events were removed" in p for p in result.problems), result.problems
    latest = await last_verification(runtime.db.pool)
    assert latest is not None and not latest.ok


def _verify_bundle(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "verify", "--bundle", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_a_bundle_for_a_filter_names_its_events_and_verifies(
    runtime: Runtime, agent: User, tmp_path: Path
) -> None:
    await _decisions(runtime, agent, ["@a@social.example", "@b@social.example"])
    where = LogFilter(customer="@B@social.example", kind="proposal_decided")
    selection = await selection_for(runtime.db.pool, where)
    assert selection is not None
    assert "customer_subject_ids" in selection[1]
    assert "social.example" not in json.dumps(selection[1])  # no handle in the bundle
    assert runtime.checkpointer is not None and runtime.audit_public_pem is not None
    path = tmp_path / "bundle.tar.gz"
    info = await build_evidence(
        runtime.db.pool,
        runtime.checkpointer,
        runtime.audit_public_pem,
        path,
        selection=selection,
    )
    assert info.selected == 1
    done = _verify_bundle(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "selection: 1 event(s) picked by the bundle's filter, each in the verified chain" in (
        done.stdout
    )

    # A selection that names an event the chain does not hold, or with another hash, fails.
    with tarfile.open(path, "r:gz") as tar:
        members = [(m, tar.extractfile(m)) for m in tar.getmembers()]
        files = {m.name: (m, f.read() if f else b"") for m, f in members}
    name = "audit-evidence/selection.json"
    chosen = json.loads(files[name][1])
    seq, digest = chosen["events"][0]
    for events, expected in (
        ([[seq, "0" * 64]], f"names event {seq} with hash 0000000000000000"),
        ([[seq + 1000, digest]], "names 1 event(s) the export does not hold"),
    ):
        forged = tmp_path / "forged.tar.gz"
        with tarfile.open(forged, "w:gz") as tar:
            for member_name, (member, data) in files.items():
                if member_name == name:
                    data = json.dumps({**chosen, "events": events}).encode()
                    member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
        bad = _verify_bundle(forged)
        assert bad.returncode == 1, bad.stdout + bad.stderr
        assert expected in bad.stderr


async def test_no_filter_means_the_plain_bundle(runtime: Runtime) -> None:
    assert await selection_for(runtime.db.pool, LogFilter(kind="  ")) is None
