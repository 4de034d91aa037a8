"""The figures as rows: value, issue 11's target, and the ratio to it (>= 1.0 meets it)."""

from __future__ import annotations

from typing import Any

# The server's resident set must stay under this during load (docs/performance.md).
RSS_BOUND_MB = 512.0


def _get(doc: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure; ``target``/``ratio`` are None where issue 11 sets none."""
    rows: list[dict[str, Any]] = []

    def row(
        name: str, value: Any, unit: str, target: str | None = None, ratio: float | None = None
    ) -> None:
        rows.append(
            {"figure": name, "value": value, "unit": unit, "target": target, "ratio": ratio}
        )

    for c in ("c1", "c64"):
        row(
            f"pgbench 0.8 KB durable row/tx, {c[1:]} client(s)", _get(r, "pgbench", c, "tps"), "tps"
        )
    for c in ("c1", "c64"):
        row(f"echo (Litestar+msgspec), {c[1:]} conn", _get(r, "echo", c, "rps"), "rps")
        row(f"echo p99, {c[1:]} conn", _get(r, "echo", c, "p99_ms"), "ms")
    echo_rps = _get(r, "echo", "c64", "rps")
    echo_p99 = _get(r, "echo", "c64", "p99_ms")
    for c in ("c1", "c16", "c64"):
        rps = _get(r, "proposals", c, "rps")
        p50, p99 = _get(r, "proposals", c, "p50_ms"), _get(r, "proposals", c, "p99_ms")
        if c == "c64" and rps is not None and echo_rps:
            row("POST /v1/proposals, 64 conn", rps, "rps", ">= 0.35 x echo", rps / echo_rps / 0.35)
            row(
                "proposals p99, 64 conn",
                p99,
                "ms",
                "<= 4 x echo p99",
                4 * echo_p99 / p99 if p99 else None,
            )
        else:
            row(f"POST /v1/proposals, {c[1:]} conn", rps, "rps")
        if c == "c1":
            row("proposals p50, 1 conn", p50, "ms", "<= 3 ms", 3.0 / p50 if p50 else None)
        else:
            row(
                f"proposals p50 / p99, {c[1:]} conn",
                None if p50 is None else f"{p50:.1f} / {p99:.1f}",
                "ms",
            )
        cpu = _get(r, "proposals", c, "server_cpu_cores")
        if cpu is not None:
            per = _get(r, "proposals", c, "server_cpu_ms_per_request")
            row(
                f"server CPU / per proposal, {c[1:]} conn",
                f"{cpu:.2f} / {per:.2f}" if per is not None else f"{cpu:.2f} / -",
                "cores / ms",
            )
        pg_per = _get(r, "proposals", c, "postgres_cpu_ms_per_request")
        if pg_per is not None:
            row(f"PostgreSQL CPU per proposal, {c[1:]} conn", f"{pg_per:.2f}", "ms")
        errors = _get(r, "proposals", c, "errors")
        if errors:
            row(f"proposal errors, {c[1:]} conn (must be 0)", errors, "requests")
    if echo_rps and _get(r, "pgbench", "c64", "tps") and _get(r, "proposals", "c64", "rps"):
        row(
            "proposals / pgbench, 64",
            _get(r, "proposals", "c64", "rps") / _get(r, "pgbench", "c64", "tps"),
            "x",
        )
    ingest = _get(r, "ingest", "per_s")
    row(
        "ingest, batches of 1,000",
        ingest,
        "mentions/s",
        ">= 8,000",
        ingest / 8000 if ingest else None,
    )
    ingest_cpu = _get(r, "ingest", "server_cpu_us_per_mention")
    if ingest_cpu is not None:
        row("server CPU per ingested mention", ingest_cpu, "µs")
    release = _get(r, "release", "per_s")
    row(
        "releases to a local webhook receiver",
        release,
        "releases/s",
        ">= 500",
        release / 500 if release else None,
    )
    row("release worker CPU per release", _get(r, "release", "worker_cpu_ms_per_release"), "ms")
    row("duplicate deliveries (must be 0)", _get(r, "release", "receiver", "duplicates"), "")
    row("policy evaluations, embedded (regorus)", _get(r, "policy", "embedded_per_s"), "/s")
    row("policy evaluations, OPA (in-process)", _get(r, "policy", "opa_per_s"), "/s")
    row("impact analysis (draft vs active)", _get(r, "impact", "per_s"), "decisions/s")
    row("verification (whole chain)", _get(r, "verify", "per_s"), "events/s")
    rss = _get(r, "server", "peak_rss_mb")
    row(
        "server peak RSS",
        rss,
        "MB",
        f"<= {RSS_BOUND_MB:.0f} MB",
        RSS_BOUND_MB / rss if rss else None,
    )
    return rows


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    return str(value)


def render_table(rows: list[dict[str, Any]], r: dict[str, Any]) -> str:
    lines = [f"{'figure':<44} {'value':>14} {'unit':<12} {'target':<17} {'ratio':>6}"]
    lines.append("-" * len(lines[0]))
    for row in rows:
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        lines.append(
            f"{row['figure']:<44} {_fmt(row['value']):>14} {row['unit']:<12} "
            f"{row['target'] or '':<17} {ratio:>6}"
        )
    for name, why in r.get("skipped", {}).items():
        lines.append(f"skipped {name}: {why}")
    meta = r.get("meta", {})
    lines.append(
        f"load: {meta.get('load_tool')}; cpus: {meta.get('cpus')}; "
        f"synchronous_commit: {meta.get('postgres', {}).get('synchronous_commit')}"
    )
    return "\n".join(lines)
