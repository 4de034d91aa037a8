"""One PostgreSQL cluster for the whole run, and pgbench against it.

pgbench is looked for in the embedded PostgreSQL's own bin folder (the pgserver wheel ships
it), then on PATH; when it is missing and we are root, Debian's ``postgresql-client`` is
installed with apt; otherwise the pgbench rows are skipped with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

# One audit-sized row (~0.8 KB of JSON), the size of a decision event's payload.
AUDIT_ROW = (
    '{"kind":"proposal_decided","actor":"alice","subject":"proposal:1",'
    '"payload":{"text":"' + "x" * 640 + '","outcome":"allow","reasons":[]},'
    '"policy_revision":"sha256:0123456789abcdef0123456789abcdef"}'
)


class Cluster:
    """The run's PostgreSQL: the DSN given (database ``postgres`` of a cluster we may
    create databases in), or a throwaway embedded one."""

    def __init__(self, admin_dsn: str | None) -> None:
        self._server: Any = None
        self._folder: Path | None = None
        if admin_dsn is None:
            self._folder = Path(tempfile.mkdtemp(prefix="egw-bench-pg-"))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pgserver

                self._server = pgserver.get_server(self._folder, cleanup_mode="delete")
            admin_dsn = str(self._server.get_uri())
        self.admin_dsn = admin_dsn

    def close(self) -> None:
        if self._server is not None:
            self._server.cleanup()

    def dsn_for(self, name: str) -> str:
        return urlunsplit(urlsplit(self.admin_dsn)._replace(path=f"/{name}"))

    async def create_database(self, prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()
        return self.dsn_for(name)

    async def drop_database(self, dsn: str) -> None:
        """Drop a database of this run, then checkpoint: what a phase wrote (pgbench's rows)
        is neither flushed nor vacuumed while a later phase is measured."""
        name = urlsplit(dsn).path.lstrip("/")
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await conn.execute("CHECKPOINT")
        finally:
            await conn.close()

    async def settings(self) -> dict[str, str]:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            rows = await conn.fetch(
                "SELECT name, setting FROM pg_settings WHERE name = ANY($1)",
                [
                    "synchronous_commit",
                    "fsync",
                    "max_connections",
                    "shared_buffers",
                    "server_version",
                ],
            )
        finally:
            await conn.close()
        return {r["name"]: r["setting"] for r in rows}


def find_pgbench() -> tuple[str | None, str]:
    """(path, where it came from) or (None, why not)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
        if bundled.exists():
            return str(bundled), "the embedded PostgreSQL's bin folder"
    except ImportError:
        pass
    found = shutil.which("pgbench")
    if found:
        return found, "PATH"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        done = subprocess.run(
            ["apt-get", "install", "-y", "-q", "postgresql-client"],
            capture_output=True,
            text=True,
            check=False,
        )
        found = shutil.which("pgbench")
        if found:
            return found, "Debian postgresql-client (installed now)"
        return None, f"pgbench missing and apt-get failed: {done.stderr.strip()[-200:]}"
    return None, "pgbench not found (not in the embedded PostgreSQL, not on PATH, not root)"


async def run_pgbench(
    pgbench: str, cluster: Cluster, clients: list[int], seconds: float
) -> dict[int, dict[str, float]]:
    """tps of one durable audit-sized INSERT per transaction, per client count."""
    dsn = await cluster.create_database("bench_pgbench")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE audit_like (seq bigserial PRIMARY KEY, at timestamptz NOT NULL"
            " DEFAULT now(), body jsonb NOT NULL)"
        )
        sync = await conn.fetchval("SHOW synchronous_commit")
    finally:
        await conn.close()
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(f"INSERT INTO audit_like (body) VALUES ('{AUDIT_ROW}');\n")
    results: dict[int, dict[str, float]] = {}
    try:
        for count in clients:
            done = subprocess.run(  # noqa: ASYNC221  # nothing else runs meanwhile
                [
                    pgbench,
                    "-n",
                    "-M",
                    "prepared",
                    "-c",
                    str(count),
                    "-j",
                    str(min(count, 2)),
                    "-T",
                    str(max(int(seconds), 1)),
                    "-f",
                    script.name,
                    dsn,
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=seconds + 60,
            )
            tps = re.search(r"tps = ([0-9.]+)", done.stdout)
            lat = re.search(r"latency average = ([0-9.]+) ms", done.stdout)
            if done.returncode != 0 or tps is None:
                raise RuntimeError(f"pgbench failed: {done.stderr.strip()[-300:]}")
            results[count] = {
                "tps": float(tps.group(1)),
                "latency_avg_ms": float(lat.group(1)) if lat else float("nan"),
                "synchronous_commit_on": float(sync == "on"),
            }
    finally:
        os.unlink(script.name)
        await cluster.drop_database(dsn)
    return results


async def postmaster_pid(dsn: str) -> int | None:
    """The cluster's postmaster when it runs on this machine (so its CPU can be measured);
    None when the data directory cannot be read (a remote cluster, no privilege)."""
    conn = await asyncpg.connect(dsn)
    try:
        folder = await conn.fetchval("SHOW data_directory")
    except asyncpg.PostgresError:
        return None
    finally:
        await conn.close()
    try:
        return int((Path(folder) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cluster_cpu_s(postmaster: int | None) -> float | None:
    """CPU seconds (user + system) used so far by the postmaster and its live children
    (the backends of the gateway's pooled connections, the WAL writer, ...)."""
    if postmaster is None:
        return None
    import psutil

    try:
        root = psutil.Process(postmaster)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


async def analyze(dsn: str) -> None:
    """Refresh the planner's statistics, as autovacuum keeps them in a running deployment.

    The run fills fresh tables in seconds, faster than autovacuum's first look. The
    decision's reads no longer depend on it (they stay index lookups on statistics of
    nearly empty tables: tests/integration/test_contact_facts_plans.py); other queries
    of the run are planned as in a deployment's steady state. Needs the owner (the admin
    DSN), not gateway_app."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
