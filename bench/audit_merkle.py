"""Benchmark: checkpoint roots over a million events, and offline verification of an export.

Run from the repository root: ``python bench/audit_merkle.py`` (``--help`` for sizes).
Times are CPU seconds of this (single-threaded) process, with wall-clock seconds beside
them, measured without tracing; peak memory comes from a second, traced run
(``tracemalloc``: Python allocations, not the whole process).
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.chain import GENESIS_HASH, ChainVerifier, event_hash, format_time
from gateway.audit.checkpoints import Checkpoint, sign_checkpoint
from gateway.audit.merkle import MerkleAccumulator, root
from gateway.audit.offline import read_export_jsonl, verify_export

T = TypeVar("T")
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class Clock:
    """CPU and wall-clock seconds of one piece of work."""

    def __init__(self, cpu: float, wall: float) -> None:
        self.cpu = cpu
        self.wall = wall

    def __str__(self) -> str:
        return f"{self.cpu:6.2f} s CPU ({self.wall:6.2f} s wall)"


def timed(work: Callable[[], T]) -> tuple[T, Clock]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return result, Clock(time.process_time() - cpu, time.perf_counter() - wall)


def peak_mib(work: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def leaves(count: int) -> Iterator[bytes]:
    for i in range(count):
        yield hashlib.sha256(i.to_bytes(8, "big")).digest()


def accumulate(count: int) -> bytes:
    accumulator = MerkleAccumulator()
    for leaf in leaves(count):
        accumulator.append(leaf)
    return accumulator.root()


def bench_merkle(count: int) -> None:
    print(f"Merkle root over {count:,} leaves")
    _, making = timed(lambda: sum(1 for _ in leaves(count)))
    streamed, total = timed(lambda: accumulate(count))
    peak = peak_mib(lambda: accumulate(count))
    hashing = total.cpu - making.cpu
    print(f"  MerkleAccumulator      {total}   peak {peak:8.3f} MiB")
    print(f"    making the leaves {making.cpu:.2f} s, hashing the tree {hashing:.2f} s ", end="")
    print(f"({count / hashing:,.0f} leaves/s)")
    held = list(leaves(count))
    in_memory, seconds = timed(partial(root, held))
    assert in_memory == streamed, "the accumulator and root() disagree"
    held.clear()
    peak = peak_mib(lambda: root(list(leaves(count))))
    print(f"  root(list), reference  {seconds}   peak {peak:8.1f} MiB (all leaves held)")


def write_export(path: Path, count: int, every: int, key: Ed25519PrivateKey) -> list[Checkpoint]:
    """A chain of ``count`` events as JSONL, with a checkpoint every ``every`` events."""
    encoder = msgspec.json.Encoder()
    tree = MerkleAccumulator()
    checkpoints: list[Checkpoint] = []
    prev = GENESIS_HASH
    with path.open("wb") as handle:
        for seq in range(1, count + 1):
            occurred_at = T0 + timedelta(milliseconds=seq)
            fields: dict[str, Any] = {
                "seq": seq,
                "occurred_at": occurred_at,
                "kind": "proposal_decided",
                "actor": "agent-7",
                "subject": f"proposal:{seq}",
                "payload": {"outcome": "allow", "reasons": ["addressed", "no_opt_out"], "n": seq},
                "policy_revision": "r42",
            }
            digest = event_hash(prev_hash=prev, **fields)
            line = fields | {"occurred_at": format_time(occurred_at)}
            handle.write(encoder.encode(line | {"prev_hash": prev, "hash": digest}) + b"\n")
            tree.append(bytes.fromhex(digest))
            prev = digest
            if seq % every == 0:
                checkpoints.append(
                    sign_checkpoint(
                        key,
                        size=seq,
                        root_hash=tree.root().hex(),
                        last_event_hash=digest,
                        created_at=T0 + timedelta(seconds=seq),
                    )
                )
    return checkpoints


def bench_offline(count: int, every: int) -> None:
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "audit.jsonl"
        checkpoints, _ = timed(lambda: write_export(export, count, every, key))
        size = export.stat().st_size / 2**20
        print(f"Offline verification of a {count:,}-event export ({size:.1f} MiB JSONL, ", end="")
        print(f"{len(checkpoints)} checkpoints, one every {every:,} events)")

        def chain_only() -> None:
            verifier = ChainVerifier()
            for event in read_export_jsonl(export):
                verifier.feed(event)
            assert verifier.result().ok

        def everything() -> None:
            report = verify_export(
                read_export_jsonl(export), checkpoints, key.public_key(), allow_unanchored=True
            )
            assert report.ok and report.checkpoints_verified == len(checkpoints), report

        _, chain = timed(chain_only)
        _, total = timed(everything)
        peak = peak_mib(everything)
        print(f"  verify_export          {total}   peak {peak:8.3f} MiB", end="")
        print(f"   {count / total.cpu:,.0f} events/s")
        print(f"  read + hash chain only {chain}{'':21}{count / chain.cpu:,.0f} events/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--checkpoint-every", type=int, default=1_000)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    bench_merkle(args.leaves)
    bench_offline(args.events, args.checkpoint_every)


if __name__ == "__main__":
    main()
