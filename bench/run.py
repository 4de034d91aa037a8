"""The benchmark: every figure of issue 11 measured side by side in one run, one command.

    python bench/run.py [--smoke] [--seconds S] [--out FILE] [--database-url DSN]
                        [--env GATEWAY_X=VALUE ...] [--python-load] [--only ingest]

On one PostgreSQL (a throwaway embedded one unless ``--database-url`` names a cluster whose
``postgres`` database we may CREATE DATABASE from), in this order:

1. pgbench: one ~0.8 KB durable row per transaction (``synchronous_commit`` as the server
   has it, on by default) at 1 and 64 clients;
2. the reference: a Litestar + msgspec echo of the proposal body, 1 uvicorn process, loaded
   like the gateway at 1 and 64 connections;
3. the gateway (``python -m gateway serve --no-worker``, 1 process): ingest
   (``POST /v1/mentions``, batches of 1,000, with classification), then
   ``POST /v1/proposals`` at 1, 16 and 64 connections, each proposal on a fresh mention,
   from wrk (or ``bench/harness/pyload.py`` with ``--python-load`` or without wrk) in its
   own process; the server's peak RSS is sampled throughout;
4. releases: ``python -m gateway worker`` drains the outbox to a local webhook receiver;
5. in-process: policy evaluations/s (embedded regorus vs OPA), impact analysis over the
   stored decisions, verification of the whole audit chain.

Prints a table (each figure, its target from issue 11 and the ratio to it: >= 1.0 meets
it) and writes everything to ``bench/results/<date>.json`` (``<date>-smoke.json`` with
``--smoke``: tiny sizes, seconds; CI runs that). ``--only ingest`` runs the gateway's
ingest phase alone (no pgbench, echo, proposals, releases or in-process figures), to
iterate on ingest; its JSON goes to ``<date>-ingest.json`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import psutil  # noqa: E402

from bench.harness import cluster as pg  # noqa: E402
from bench.harness import inproc  # noqa: E402
from bench.harness.load import find_wrk, post_load  # noqa: E402
from bench.harness.procs import HttpServer, Proc, RssSampler, free_port, uvicorn_app  # noqa: E402
from bench.harness.report import render_table, targets  # noqa: E402
from gateway.logging import configure_logging  # noqa: E402
from gateway.pipeline.accounts import Accounts  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from gateway.store.database import Database  # noqa: E402

SECRET = "bench-webhook-secret"
FULL = {
    "seconds": 10.0,
    "ingest_batches": 20,
    "batch": 1000,
    "releases": 5000,
    "policy_inputs": 2000,
    "impact": 10_000,
}
SMOKE = {
    "seconds": 1.0,
    "ingest_batches": 1,
    "batch": 1000,
    "releases": 50,
    "policy_inputs": 50,
    "impact": 200,
}
MENTION_TEXT = "@acme my order {i} is three weeks late and nobody answers my emails, terrible"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    parser.add_argument("--seconds", type=float, help="seconds per load level")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/DATE.json)")
    parser.add_argument("--database-url", help="an existing cluster's postgres database")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="GATEWAY_X=VALUE",
        help="extra environment for the gateway processes",
    )
    parser.add_argument(
        "--only",
        choices=["ingest"],
        help="run only this phase (ingest: POST /v1/mentions in batches of 1,000)",
    )
    parser.add_argument(
        "--python-load",
        action="store_true",
        help="use the Python load generator even when wrk is installed",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(json=False, level="warning")  # the in-process parts log like the server
    sizes = dict(SMOKE if args.smoke else FULL)
    if args.seconds:
        sizes["seconds"] = args.seconds
    extra = dict(item.split("=", 1) for item in args.env)
    started = datetime.now(UTC)
    results = asyncio.run(_run(sizes, args, extra))
    results["meta"].update(
        started_at=started.isoformat(timespec="seconds"),
        seconds_total=round((datetime.now(UTC) - started).total_seconds(), 1),
    )
    rows = targets(results)
    if args.only:
        rows = [row for row in rows if row["value"] is not None]
    results["targets"] = rows
    print(render_table(rows, results))
    day = started.strftime("%Y-%m-%d") + ("-smoke" if args.smoke else "")
    day += f"-{args.only}" if args.only else ""
    out = args.out or REPO / "bench" / "results" / f"{day}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwritten to {out}")
    return 0


class _Phases:
    """Wall time of each phase, kept in the results (``meta.phase_seconds``)."""

    def __init__(self, into: dict[str, float]) -> None:
        self._into = into

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._into[name] = round(time.perf_counter() - started, 2)


async def _run(
    sizes: dict[str, Any], args: argparse.Namespace, extra: dict[str, str]
) -> dict[str, Any]:
    cluster = pg.Cluster(args.database_url)
    wrk = None if args.python_load else find_wrk()
    results: dict[str, Any] = {
        "meta": {
            "smoke": args.smoke,
            "sizes": sizes,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "load_tool": "wrk" if wrk else "pyload",
            "gateway_env": extra,
        },
        "skipped": {},
    }
    try:
        results["meta"]["postgres"] = await cluster.settings()
        with tempfile.TemporaryDirectory(prefix="egw-bench-") as tmp:
            logs = Path(tmp)
            phase = _Phases(results["meta"].setdefault("phase_seconds", {}))
            if args.only is None:
                with phase("pgbench"):
                    await _pgbench(cluster, sizes, results)
                with phase("echo"):
                    _echo(sizes, wrk, logs, results)
            dsn = await cluster.create_database("bench_gateway")
            await _gateway(dsn, sizes, wrk, logs, extra, results, phase, only=args.only)
            if args.only is not None:
                return results
            with phase("policy"):
                results["policy"] = await inproc.policy_evaluations(
                    await inproc.stored_inputs(dsn, sizes["policy_inputs"])
                )
            with phase("impact_verify"):
                results.update(await inproc.impact_and_verify(dsn, sizes["impact"]))
    finally:
        cluster.close()
    return results


async def _pgbench(cluster: pg.Cluster, sizes: dict[str, Any], results: dict[str, Any]) -> None:
    binary, where = pg.find_pgbench()
    if binary is None:
        results["skipped"]["pgbench"] = where
        print(f"pgbench rows skipped: {where}", file=sys.stderr)
        return
    runs = await pg.run_pgbench(binary, cluster, [1, 64], sizes["seconds"])
    results["pgbench"] = {"binary": where, **{f"c{c}": r for c, r in runs.items()}}


def _echo(sizes: dict[str, Any], wrk: str | None, logs: Path, results: dict[str, Any]) -> None:
    server = uvicorn_app("bench.harness.echo_app:app", logs / "echo.log", "/")
    try:
        ids = list(range(1, int(20_000 * sizes["seconds"]) + 1))  # any id: nothing is stored
        results["echo"] = {
            f"c{c}": post_load(
                url=server.url,
                path="/v1/proposals",
                token=None,
                ids=ids,
                connections=c,
                seconds=sizes["seconds"],
                wrk=wrk,
            )
            for c in (1, 64)
        }
    finally:
        server.stop()


async def _gateway(
    dsn: str,
    sizes: dict[str, Any],
    wrk: str | None,
    logs: Path,
    extra: dict[str, str],
    results: dict[str, Any],
    phase: _Phases,
    *,
    only: str | None = None,
) -> None:
    receiver = uvicorn_app("bench.harness.receiver_app:app", logs / "receiver.log", "/stats")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        {
            "DATABASE_URL": dsn,
            "GATEWAY_DATA_DIR": str(logs / "data"),
            "GATEWAY_DEMO": "false",
            "GATEWAY_LOG_LEVEL": "warning",
            "GATEWAY_LOG_JSON": "true",
            "GATEWAY_RETENTION_DAYS": "off",
            "GATEWAY_WEBHOOK_URL": receiver.url + "/hook",
            "GATEWAY_WEBHOOK_SECRET": SECRET,
            **extra,
        }
    )
    try:
        with phase("gateway_setup"):
            tokens = await _setup_database(dsn, logs)
        port = free_port()
        with phase("gateway_start"):
            server = HttpServer(
                ["-m", "gateway", "serve", "--no-worker", "--port", str(port)],
                logs / "gateway.log",
                port=port,
                ready_path="/health",
                env=env,
            )
        rss = RssSampler(server.pid)
        try:
            async with httpx.AsyncClient(
                base_url=server.url,
                timeout=120,
                headers={"Authorization": f"Bearer {tokens['admin']}"},
            ) as client:
                with phase("ingest"):
                    pool, results["ingest"] = await _ingest(client, sizes, server.pid)
                if only == "ingest":
                    return
                with phase("proposals"):
                    results["proposals"] = await _proposals(
                        client, server, pool, tokens["agent"], sizes, wrk,
                        await pg.postmaster_pid(dsn), dsn,
                    )
        finally:
            results["server"] = rss.stop()
            server.stop()
        with phase("release"):
            await pg.analyze(dsn)
            results["release"] = await _release(dsn, env, sizes, logs, receiver)
    finally:
        receiver.stop()


async def _proposals(
    client: httpx.AsyncClient,
    server: HttpServer,
    pool: list[int],
    token: str,
    sizes: dict[str, Any],
    wrk: str | None,
    postmaster: int | None = None,
    dsn: str | None = None,
) -> dict[str, Any]:
    """POST /v1/proposals at 1, 16, 64 connections; every request on a mention never
    proposed on (more are ingested, untimed, when the pool runs short). Besides the
    server's CPU, PostgreSQL's (the whole cluster's, when it runs on this machine)."""
    out: dict[str, Any] = {}
    estimate, fresh = 600.0, 10_000_000  # rps guess; external ids not used yet
    # Untimed warm-up: the server's connections, plan caches and the tables the decisions
    # write (statistics are refreshed after it, as autovacuum keeps them in a running
    # deployment, not taken of empty tables).
    warm = int(estimate * 1.5) + 100
    pool += await _post_mentions(client, fresh - 1_000_000, warm)
    post_load(
        url=server.url,
        path="/v1/proposals",
        token=token,
        ids=pool[:warm],
        connections=4,
        seconds=1,
        wrk=wrk,
    )
    del pool[:warm]
    for conns in (1, 16, 64):
        need = int(estimate * sizes["seconds"] * 1.3) + 100
        while len(pool) < need:
            count = need - len(pool)
            pool += await _post_mentions(client, fresh, count)
            fresh += count  # external ids never posted before: every mention is fresh
        if dsn is not None:
            await pg.analyze(dsn)  # statistics as autovacuum keeps them (see pg.analyze)
        process = psutil.Process(server.pid)
        cpu_before, wall_before = sum(process.cpu_times()[:2]), time.perf_counter()
        pg_before = pg.cluster_cpu_s(postmaster)
        out[f"c{conns}"] = post_load(
            url=server.url,
            path="/v1/proposals",
            token=token,
            ids=pool[:need],
            connections=conns,
            seconds=sizes["seconds"],
            wrk=wrk,
        )
        # How busy the server process was: well under 1.0 (one core) means it waited. CPU
        # per request stays comparable on a machine loaded by other work; throughput does not.
        cpu_s = sum(process.cpu_times()[:2]) - cpu_before
        pg_after = pg.cluster_cpu_s(postmaster)
        figures = out[f"c{conns}"]
        if pg_before is not None and pg_after is not None and figures["requests"]:
            figures["postgres_cpu_ms_per_request"] = (
                (pg_after - pg_before) * 1000 / figures["requests"]
            )
        figures["server_cpu_cores"] = cpu_s / (time.perf_counter() - wall_before)
        figures["server_cpu_ms_per_request"] = (
            cpu_s * 1000 / figures["requests"] if figures["requests"] else None
        )
        del pool[:need]
        estimate = max(estimate, out[f"c{conns}"]["rps"] * 4)
    return out


async def _setup_database(dsn: str, logs: Path) -> dict[str, str]:
    """Migrate and add an admin and an agent (in-process: saves two interpreter starts)."""
    db = await Database.open(Settings(database_url=dsn, data_dir=logs / "setup", demo=False))
    try:
        accounts = Accounts(db.pool)
        return {
            role: (await accounts.add(name=f"bench-{role}", role=role, actor="bench"))[1]
            for role in ("admin", "agent")
        }
    finally:
        await db.close()


async def _ingest(
    client: httpx.AsyncClient, sizes: dict[str, Any], pid: int
) -> tuple[list[int], dict[str, Any]]:
    batches, batch = sizes["ingest_batches"], sizes["batch"]
    # warm up (connections, the classifier and its worker processes): one untimed batch
    await _post_mentions(client, 90_000_000, batch)
    ids: list[int] = []
    cpu_before = _cpu_seconds(pid)
    started = time.perf_counter()
    for n in range(batches):
        ids += await _post_mentions(client, n * batch, batch)
    elapsed = time.perf_counter() - started
    cpu_s = _cpu_seconds(pid) - cpu_before
    return ids, {
        "mentions": len(ids),
        "batch": batch,
        "seconds": elapsed,
        "per_s": len(ids) / elapsed,
        # the server and its worker processes (classification may run in a process pool)
        "server_cpu_us_per_mention": cpu_s * 1e6 / len(ids) if ids else None,
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live children, in seconds."""
    process = psutil.Process(pid)
    total = float(sum(process.cpu_times()[:2]))
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += sum(child.cpu_times()[:2])
    return total


async def _post_mentions(client: httpx.AsyncClient, first: int, count: int) -> list[int]:
    ids: list[int] = []
    for start in range(first, first + count, 1000):
        body = {
            "mentions": [
                {
                    "channel": "webhook",
                    "external_id": f"m{i}",
                    "url": None,
                    "author": {"handle": f"c{i}@example.com", "display_name": f"Customer {i}"},
                    "text": MENTION_TEXT.format(i=i),
                    "created_at": datetime.now(UTC).isoformat(),
                }
                for i in range(start, min(start + 1000, first + count))
            ]
        }
        answer = await client.post("/v1/mentions", json=body)
        answer.raise_for_status()
        ids += answer.json()["ids"]
    return ids


async def _release(
    dsn: str, env: dict[str, str], sizes: dict[str, Any], logs: Path, receiver: HttpServer
) -> dict[str, Any]:
    """The worker drains the outbox to the receiver (up to ``releases`` rows); the rate is
    deliveries over the time between the receiver's first and last delivery."""
    conn = await asyncpg.connect(dsn)
    try:
        queued = int(await conn.fetchval("SELECT count(*) FROM outbox WHERE state <> 'done'"))
        goal = min(queued, sizes["releases"])
        worker = Proc(["-m", "gateway", "worker"], logs / "worker.log", env)
        rss = RssSampler(worker.pid)
        try:
            deadline = time.monotonic() + 60 + goal / 50
            done = 0
            process = psutil.Process(worker.pid)
            first: tuple[int, float] | None = None  # (done, worker CPU s) at the first release
            while done < goal and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                done = int(await conn.fetchval("SELECT count(*) FROM outbox WHERE state = 'done'"))
                if first is None and done > 0:
                    first = (done, sum(process.cpu_times()[:2]))
            cpu_ms: float | None = None
            if first is not None and done > first[0]:
                cpu_ms = (sum(process.cpu_times()[:2]) - first[1]) * 1000 / (done - first[0])
        finally:
            memory = rss.stop()
            worker.stop()
        released = await conn.fetchval("SELECT count(*) FROM proposals WHERE status = 'released'")
    finally:
        await conn.close()
    async with httpx.AsyncClient(timeout=5) as client:
        stats = (await client.get(receiver.url + "/stats")).json()
    span = stats["last_at"] - stats["first_at"]
    return {
        "queued": queued,
        "goal": goal,
        "done": done,
        "released": int(released),
        "per_s": (stats["deliveries"] - 1) / span if span > 0 else 0.0,
        "seconds": span,
        "receiver": stats,
        "worker_peak_rss_mb": memory["peak_rss_mb"],
        "worker_cpu_ms_per_release": cpu_ms,
    }


if __name__ == "__main__":
    sys.exit(main())
