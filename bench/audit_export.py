"""Exporting N audit events (default 1,000,000) streams in constant memory.

    python bench/audit_export.py [N]

Fills a throwaway embedded PostgreSQL with N chained events (COPY), then streams the
JSONL export to a file and reports time, size and peak Python memory (tracemalloc),
which must not grow with N.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402

from gateway.audit.chain import GENESIS_HASH, event_hash  # noqa: E402
from gateway.audit.export import export_stream  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from gateway.store.audit import ExportFilter  # noqa: E402
from gateway.store.database import Database  # noqa: E402


async def fill(dsn: str, n: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        prev = GENESIS_HASH
        start = datetime(2026, 1, 1, tzinfo=UTC)
        batch: list[tuple[object, ...]] = []
        for seq in range(1, n + 1):
            when = start + timedelta(milliseconds=seq)
            payload = {
                "proposal_id": seq,
                "status": "approved",
                "decision": {"outcome": "allow", "reasons": []},
            }
            digest = event_hash(
                prev_hash=prev,
                seq=seq,
                occurred_at=when,
                kind="proposal_decided",
                actor="alice",
                subject=f"proposal:{seq}",
                payload=payload,
                policy_revision="sha256:bench",
            )
            batch.append(
                (
                    seq,
                    when,
                    "proposal_decided",
                    "alice",
                    f"proposal:{seq}",
                    json.dumps(payload),
                    "sha256:bench",
                    prev,
                    digest,
                )
            )
            prev = digest
            if len(batch) == 50_000:
                await conn.copy_records_to_table("audit_events", records=batch)
                batch = []
        if batch:
            await conn.copy_records_to_table("audit_events", records=batch)
        await conn.execute("ALTER TABLE audit_chain_head DISABLE TRIGGER USER")
        await conn.execute("UPDATE audit_chain_head SET seq = $1, hash = $2", n, prev)
        await conn.execute("ALTER TABLE audit_chain_head ENABLE TRIGGER USER")
    finally:
        await conn.close()


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="egw-bench-") as tmp:
        db = await Database.open(Settings(data_dir=Path(tmp), demo=False))
        try:
            started = time.perf_counter()
            await fill(db.dsn, n)
            print(f"stored {n:,} chained events in {time.perf_counter() - started:.1f} s")
            out = Path(tmp) / "export.jsonl"
            tracemalloc.start()
            started = time.perf_counter()
            async with db.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
                with out.open("wb") as handle:
                    async for chunk in export_stream(conn, ExportFilter(), fmt="jsonl"):
                        handle.write(chunk)
            elapsed = time.perf_counter() - started
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            size = out.stat().st_size
            print(
                f"exported {n:,} events ({size / 2**20:.0f} MiB JSONL) in {elapsed:.1f} s "
                f"({n / elapsed:,.0f} events/s); peak Python memory {peak / 2**20:.1f} MiB"
            )
        finally:
            await db.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
