"""Impact analysis on N stored decisions (default 100,000): how long a compliance officer
waits for `POST /v1/policies/{rev}/impact`.

    python bench/impact.py [N]

Starts a throwaway embedded PostgreSQL, stores N proposals (recorded under an older
revision, so both policies are evaluated: the worst case) whose policy inputs vary
(intents, contact counts, texts), drafts the default policy with a lower daily cap, and
times the replay of all N through draft and active policy. Prints the figures.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402

from gateway.domain.records import User  # noqa: E402
from gateway.runtime import Runtime  # noqa: E402
from gateway.settings import Settings  # noqa: E402

TEXTS = [
    "Sorry about the wait, we have escalated your order with the courier today.",
    "Use code SAVE20 for 20% off your next order!",
    "Please email me at help@example.com with your order number.",
    "We are looking into it and will get back to you shortly.",
]


def policy_input(rng: random.Random, i: int) -> dict[str, object]:
    text = rng.choice(TEXTS)
    return {
        "action": "reply",
        "mention": {
            "id": i,
            "channel": "demo",
            "author": {
                "handle": f"@c{i % 5000}@social.example",
                "display_name": "C",
                "bot": False,
                "description": "",
            },
            "text": "@acme my order is late, why?",
            "intent": rng.choice(["complaint", "question", "praise", "other"]),
            "sentiment": -0.4,
            "addressed_brand": rng.random() < 0.8,
            "thread": {"id": f"t{i}", "in_reply_to": None},
            "created_at": "2026-11-20T10:00:00Z",
            "visibility": None,
            "is_direct": False,
        },
        "reply": {"text": text, "length": len(text), "links": [], "ai_generated": False},
        "agent": {"id": "alice", "roles": ["agent"]},
        "customer": {
            "opted_out": rng.random() < 0.05,
            "contacts_24h": rng.randint(0, 4),
            "contacts_7d": rng.randint(0, 7),
            "contacts_30d": rng.randint(0, 16),
            "last_contact_at": None,
            "thread_replies": 0,
            "replied_since_last_contact": True,
        },
        "channel": {"name": "demo", "max_length": None},
        "now": "2026-11-20T10:05:00Z",
    }


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="egw-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), demo=False, policy_dir=REPO / "policies")
        rt = await Runtime.start(settings)
        assert rt.policies is not None
        try:
            rng = random.Random(7)
            conn = await asyncpg.connect(rt.db.dsn)  # plain connection: binary COPY of jsonb
            try:
                mention_id = await conn.fetchval(
                    "INSERT INTO mentions (channel, external_id, author_handle, text, created_at,"
                    " thread_id, intent, sentiment_compound, sentiment_pos, sentiment_neu,"
                    " sentiment_neg, addressed) VALUES ('demo', 'b1', '@c', 'x', now(), 't',"
                    " 'complaint', 0, 0, 1, 0, true) RETURNING id"
                )
                started = time.perf_counter()
                rows = [
                    (
                        mention_id,
                        "demo",
                        f"@c{i % 5000}",
                        f"t{i}",
                        "alice",
                        "x",
                        False,
                        "approved",
                        "allow",
                        "[]",
                        "sha256:recorded-under-an-older-policy",
                        f"k{i}",
                        json.dumps(policy_input(rng, i)),
                    )
                    for i in range(n)
                ]
                await conn.copy_records_to_table(
                    "proposals",
                    records=rows,
                    columns=[
                        "mention_id",
                        "channel",
                        "customer_handle",
                        "thread_id",
                        "agent",
                        "text",
                        "ai_generated",
                        "status",
                        "outcome",
                        "reasons",
                        "policy_revision",
                        "idempotency_key",
                        "policy_input",
                    ],
                )
                print(f"stored {n} decisions in {time.perf_counter() - started:.1f} s")
            finally:
                await conn.close()
            state = await rt.policies.state()
            active = await rt.policies.version(state.active_revision or "")
            data = copy.deepcopy(active.data)
            data["caps"]["per_customer_24h"] = 1
            officer = User(id=0, name="carol", role="compliance", created_at=active.created_at)
            draft, _ = await rt.policies.draft(
                files=dict(active.files), data=data, description="bench", user=officer
            )
            started = time.perf_counter()
            report = await rt.policies.impact(draft.revision, limit=n)
            elapsed = time.perf_counter() - started
            print(
                f"impact over {report.evaluated} decisions: {elapsed:.1f} s "
                f"({report.evaluated / elapsed:,.0f} decisions/s, two policies each); "
                f"changed {report.changed}: {report.transitions}"
            )
        finally:
            await rt.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
