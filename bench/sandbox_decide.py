"""One decision of the default bundle in-process against one through a sandbox worker
(the cost of isolating the active policy; see docs/decisions/0006).

    python bench/sandbox_decide.py [DECISIONS]
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import time
from pathlib import Path

import msgspec
import structlog

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gateway.domain.policy_input import PolicyInput  # noqa: E402
from gateway.policy import EmbeddedEngine, PolicyEngine, load_bundle  # noqa: E402
from gateway.policy._sandbox_jobs import CheckJob  # noqa: E402
from gateway.policy.probes import pathological_inputs  # noqa: E402
from gateway.policy.sandbox import Sandbox  # noqa: E402
from gateway.policy.sandboxed import SandboxedEngine  # noqa: E402


def ordinary_input() -> PolicyInput:
    """A worst-case input with ordinary texts and handle."""
    worst = pathological_inputs()[0]
    text = "Sorry about the wait, we have escalated your order with the courier."
    author = msgspec.structs.replace(
        worst.mention.author, handle="@dana@x.example", display_name="Dana", description=""
    )
    mention = msgspec.structs.replace(
        worst.mention,
        author=author,
        text="@acme my order is three weeks late",
        thread=msgspec.structs.replace(worst.mention.thread, id="t1", in_reply_to=None),
    )
    reply = msgspec.structs.replace(worst.reply, text=text, length=len(text), links=[])
    return msgspec.structs.replace(worst, mention=mention, reply=reply)


async def measure(name: str, engine: PolicyEngine, policy_input: PolicyInput, n: int) -> None:
    for _ in range(50):
        await engine.decide(policy_input)
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        decision = await engine.decide(policy_input)
        latencies.append((time.perf_counter() - started) * 1e6)
        assert decision.error is None, decision.error
    latencies.sort()
    p99 = latencies[int(0.99 * (n - 1))]
    print(f"{name:11s} median {statistics.median(latencies):7.0f} µs  p99 {p99:7.0f} µs")


async def main(n: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    bundle = load_bundle(REPO / "policies")
    policy_input = ordinary_input()
    local = EmbeddedEngine(bundle)
    sandbox = Sandbox()
    await sandbox.run(CheckJob(bundle=bundle), type(None))
    await asyncio.sleep(1)  # both workers up
    isolated = SandboxedEngine(bundle, sandbox, timeout_s=2.0)
    try:
        for _ in range(2):
            await measure("in-process", local, policy_input, n)
            await measure("sandbox", isolated, policy_input, n)
    finally:
        await local.close()
        await sandbox.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
