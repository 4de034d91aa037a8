"""Disagreement with the classifier: agents flag a mention's intent, flags become data.

A flag records the intent the agent believes the mention has, is audited
(``intent_flagged``), and marks the mention: from then on the default policy sends every
reply on it to review (reason ``intent_overridden``), never straight out. Flagged
mentions are exported as candidates for the evaluation set (tests/data/README.md,
``intent_eval.jsonl``), one JSON object per line in the set's format with
``"split": "candidate"``: a person checks the labels before adding a line to the set.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import structlog

from gateway.audit.subjects import sealed_for
from gateway.domain.classification import FlaggableIntent
from gateway.domain.records import IntentFlag, User
from gateway.pipeline.errors import InvalidInput
from gateway.store import audit, intent_flags, mentions
from gateway.store.intent_flags import FlaggedExample

log = structlog.get_logger(__name__)

MAX_NOTE = 500
NEUTRAL_BAND = 0.05
"""VADER's own convention: a compound within ±0.05 is neutral."""


def sentiment_sign(compound: float) -> str:
    """``negative``, ``neutral`` or ``positive``, as the evaluation set labels sentiment."""
    if compound <= -NEUTRAL_BAND:
        return "negative"
    return "positive" if compound >= NEUTRAL_BAND else "neutral"


class IntentFlagging:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def flag(
        self, mention_id: int, *, intent: FlaggableIntent, note: str, user: User
    ) -> IntentFlag:
        """Record that ``user`` believes ``mention_id`` has ``intent``; audited in the same
        transaction. NotFound for an unknown mention."""
        if "\x00" in note:
            raise InvalidInput("note must not contain NUL characters")
        if len(note) > MAX_NOTE:
            raise InvalidInput(f"note is longer than {MAX_NOTE} characters")
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            mention = await mentions.lock_mention(conn, mention_id, now=now)
            flag = await intent_flags.add_flag(
                conn,
                mention_id=mention_id,
                intent=intent,
                classified_intent=mention.intent,
                flagged_by=user.name,
                note=note,
                now=now,
            )
            await audit.append(
                conn,
                kind="intent_flagged",
                actor=user.name,
                subject=f"mention:{mention_id}",
                payload=await sealed_for(
                    conn,
                    {
                        "flag_id": flag.id,
                        "mention_id": mention_id,
                        "intent": intent,
                        "classified_intent": mention.intent,
                        "classified_intents": msgspec.to_builtins(mention.intents),
                        "note": note,
                    },
                    channel=mention.channel,
                    customer=mention.customer,
                ),
            )
        log.info(
            "intent_flagged",
            mention_id=mention_id,
            flag_id=flag.id,
            intent=intent,
            classified_intent=mention.intent,
            actor=user.name,
        )
        return flag

    async def flags(self, mention_id: int) -> list[IntentFlag]:
        async with self._pool.acquire() as conn:
            await mentions.get_mention(conn, mention_id, now=datetime.now(UTC))  # NotFound
            return await intent_flags.flags_of(conn, mention_id)

    async def candidates(self) -> list[dict[str, Any]]:
        """Every flagged mention whose text is still stored, as evaluation-set lines."""
        async with self._pool.acquire() as conn:
            examples = await intent_flags.flagged_examples(conn)
        return [candidate_line(e) for e in examples]


def candidate_line(example: FlaggedExample) -> dict[str, Any]:
    """One evaluation-set line: the agent's intent as the label, the classifier's answer
    beside it for the person who checks it."""
    flag = example.flag
    return {
        "text": example.text,
        "lang": example.language or "und",
        "intent": flag.intent,
        "intents": [flag.intent],
        "sentiment": sentiment_sign(example.sentiment_compound),
        "split": "candidate",
        "source": f"intent_flag:{flag.id}",
        "classified": {
            "intent": flag.classified_intent,
            "intents": [s.intent for s in example.intents],
        },
        "note": flag.note,
    }
