"""How long after an activation every gateway instance enforces the new revision.

    python bench/policy_switch.py [ROUNDS]

Two runtimes (as two gateway instances would be) share a throwaway embedded PostgreSQL;
one activates a draft, the other follows LISTEN/NOTIFY. Prints the switch latency.
"""

from __future__ import annotations

import asyncio
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gateway.domain.records import User  # noqa: E402
from gateway.runtime import Runtime  # noqa: E402
from gateway.settings import Settings  # noqa: E402


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="egw-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), demo=False, policy_dir=REPO / "policies")
        a = await Runtime.start(settings)
        a_settings = Settings(
            database_url=a.db.dsn,
            data_dir=Path(tmp) / "b",
            demo=False,
            policy_dir=REPO / "policies",
        )
        b = await Runtime.start(a_settings)
        b.start_policy_follower()
        assert a.policies is not None
        try:
            state = await a.policies.state()
            base = await a.policies.version(state.active_revision or "")
            when = base.created_at
            carol = User(id=0, name="carol", role="compliance", created_at=when)
            dave = User(id=0, name="dave", role="compliance", created_at=when)
            latencies = []
            for i in range(rounds):
                data = copy.deepcopy(base.data)
                data["caps"]["per_customer_30d"] = 15 + i + 1
                draft, _ = await a.policies.draft(
                    files=dict(base.files), data=data, description=f"round {i}", user=carol
                )
                started = time.perf_counter()
                await a.policies.activate(draft.revision, user=dave)
                while b.engine.revision != draft.revision:  # noqa: ASYNC110 - polling is the measurement
                    await asyncio.sleep(0.001)
                latencies.append((time.perf_counter() - started) * 1000)
            print(
                f"switch latency over {rounds} activations: median "
                f"{statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms "
                "(activation commit to the other instance enforcing it)"
            )
        finally:
            await b.close()
            await a.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
