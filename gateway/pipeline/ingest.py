"""Ingest: dedupe, classify and store mentions; register opt-outs they ask for.

Each mention gets its author's canonical identity (gateway/domain/identity.py) under the
channel's scheme; a handle that cannot be an identity refuses the batch (``InvalidInput``
naming the mention and field).

Classification (language, sentiment, intent: ≈ 100 µs a short text) never runs on the
event loop: a small batch is classified in a worker thread, a large one is split across
worker processes, one per core (``ClassifyPool``, ``GATEWAY_CLASSIFY_PROCESSES``). The
batch is then written with one statement (``mentions.insert_mentions``: duplicates skipped
by ``ON CONFLICT``), the duplicates' stored ids read with one more. A mention that replies
to a stored one is classified with that post's intent as its context.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime

import asyncpg
import msgspec
import structlog

from connectors.contract import RawMention
from gateway.audit.subjects import sealed_for
from gateway.domain.classification import Classification
from gateway.domain.identity import Identity, InvalidIdentity, Scheme, is_did, mention_identity
from gateway.domain.records import NewMention, SentimentScores
from gateway.pipeline.classify import Classifier, ClassifyItem, ClassifyPool
from gateway.pipeline.errors import InvalidInput
from gateway.store import audit, identities, mentions, opt_outs
from gateway.store.connection import Conn
from gateway.store.proposals import released_external_ids

log = structlog.get_logger(__name__)


class IngestResult(msgspec.Struct, frozen=True, kw_only=True):
    ids: list[int]  # in input order; a duplicate gets the id of the mention already stored
    duplicates: int
    opt_outs: int = 0


def parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"created_at {value!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"created_at {value!r} needs a time zone (e.g. Z or +00:00)")
    return moment.astimezone(UTC)


def _validate(raw: RawMention, index: int) -> datetime:
    """Refuse what cannot be stored; the mention's creation time, parsed."""
    for field in ("channel", "external_id", "text"):
        value = getattr(raw, field)
        if not value or not value.strip():
            raise InvalidInput(f"mentions[{index}].{field} must not be empty")
    if not raw.author.handle.strip():
        raise InvalidInput(f"mentions[{index}].author.handle must not be empty")
    if "\x00" in raw.author.handle:
        raise InvalidInput(f"mentions[{index}].author.handle contains a NUL character")
    texts = (
        raw.text,
        raw.author.handle,
        raw.author.display_name,
        raw.author.description,
        raw.external_id,
        raw.url or "",
        *(str(v) for v in raw.channel_data.values()),
    )
    # PostgreSQL text and jsonb cannot hold NUL; a quoted "\\u0000" in text is fine.
    if any("\x00" in t for t in texts) or (
        raw.channel_data and "\\u0000" in json.dumps(raw.channel_data)
    ):
        raise InvalidInput(f"mentions[{index}] contains a NUL character")
    return parse_time(raw.created_at)


class Ingestor:
    def __init__(
        self,
        pool: asyncpg.Pool,
        classifier: Classifier,
        *,
        brand_handle: str,
        classify_processes: int | None = None,
    ) -> None:
        self._pool = pool
        self._classify = ClassifyPool(classifier, processes=classify_processes)
        self._brand_handle = brand_handle  # what a reply to one of our replies addressed

    async def close(self) -> None:
        """Stop the classification worker processes, if any were started."""
        await asyncio.to_thread(self._classify.close)

    async def ingest(self, batch: list[RawMention], *, actor: str) -> IngestResult:
        """Store new mentions in one transaction; all or nothing on invalid input."""
        created_at = [_validate(raw, index) for index, raw in enumerate(batch)]
        async with self._pool.acquire() as conn:
            reply_targets = await self._brand_reply_targets(conn, batch)
            contexts = await _reply_contexts(conn, batch)
            items = [
                ClassifyItem(
                    text=raw.text,
                    in_reply_to_handle=reply_targets.get(i),
                    is_direct=raw.is_direct,
                    connector_addressed=raw.addressed,
                    context_intent=contexts.get(i),
                )
                for i, raw in enumerate(batch)
            ]
            # Pure CPU work in a worker thread or worker processes, never on the event
            # loop; the authors' identities are resolved meanwhile.
            classifying = asyncio.ensure_future(self._classify.classify_many(items))
            try:
                customers = await _identities(conn, batch)
            except BaseException:
                classifying.cancel()
                with contextlib.suppress(BaseException):
                    await classifying
                raise
        classes = await classifying
        news = [
            _to_new(raw, cls, customer, created)
            for raw, cls, customer, created in zip(
                batch, classes, customers, created_at, strict=True
            )
        ]
        registered = 0
        async with self._pool.acquire() as conn, conn.transaction():
            stored = await mentions.insert_mentions(conn, news)
            missing = [i for i, mention_id in enumerate(stored) if mention_id is None]
            found = await mentions.existing_ids(
                conn, [(news[i].channel, news[i].external_id, news[i].url) for i in missing]
            )
            stored_ids = {i: found[n] for n, i in enumerate(missing)}  # a duplicate's stored id
            ids = [
                mention_id if mention_id is not None else stored_ids[i]
                for i, mention_id in enumerate(stored)
            ]
            created = [mention_id for mention_id in stored if mention_id is not None]
            duplicates = len(missing)
            for mention_id, cls, customer in zip(stored, classes, customers, strict=True):
                if mention_id is not None and cls.opt_out.requested:
                    registered += await _register_opt_out(conn, customer, mention_id, cls)
            if created:
                await audit.append(
                    conn,
                    kind="mentions_ingested",
                    actor=actor,
                    subject="mentions",
                    payload={
                        "count": len(created),
                        "duplicates": duplicates,
                        "mention_ids": created,
                    },
                )
        log.info(
            "mentions_ingested",
            count=len(created),
            duplicates=duplicates,
            opt_outs=registered,
            actor=actor,
        )
        return IngestResult(ids=ids, duplicates=duplicates, opt_outs=registered)

    async def _brand_reply_targets(self, conn: Conn, batch: list[RawMention]) -> dict[int, str]:
        """Mentions that reply to one of our released replies are replies to the brand."""
        wanted = {raw.in_reply_to for raw in batch if raw.in_reply_to}
        if not wanted:
            return {}
        ours = await released_external_ids(conn, sorted(wanted))
        return {i: self._brand_handle for i, raw in enumerate(batch) if raw.in_reply_to in ours}


async def _reply_contexts(conn: Conn, batch: list[RawMention]) -> dict[int, str]:
    """The stored intent of the post each mention replies to (a short reply in a complaint
    thread continues the complaint)."""
    keys = {(raw.channel.strip(), raw.in_reply_to) for raw in batch if raw.in_reply_to}
    found = await mentions.intents_by_external_id(conn, sorted(keys))
    return {
        i: found[(raw.channel.strip(), raw.in_reply_to)]
        for i, raw in enumerate(batch)
        if raw.in_reply_to and (raw.channel.strip(), raw.in_reply_to) in found
    }


async def _identities(conn: Conn, batch: list[RawMention]) -> list[Identity]:
    """Each author's identity; a Bluesky handle without a DID resolves through the stored
    mentions (else the handle stands in until a mention with the DID arrives)."""
    schemes: dict[str, Scheme] = {}
    found: list[Identity] = []
    for index, raw in enumerate(batch):
        channel = raw.channel.strip()
        if channel not in schemes:
            schemes[channel] = await identities.channel_scheme(conn, channel)
        scheme = schemes[channel]
        try:
            identity = mention_identity(scheme, channel, raw.author.handle, raw.channel_data)
        except InvalidIdentity as exc:
            raise InvalidInput(f"mentions[{index}].{exc}") from None
        if scheme.kind == "bluesky" and not is_did(identity.id):
            did = await identities.bluesky_did(conn, channel=channel, handle=identity.id)
            identity = msgspec.structs.replace(identity, id=did or identity.id)
        found.append(identity)
    return found


def _to_new(
    raw: RawMention, cls: Classification, customer: Identity, created_at: datetime
) -> NewMention:
    return NewMention(
        channel=raw.channel.strip(),
        external_id=raw.external_id.strip(),
        url=raw.url,
        author_handle=customer.handle,
        customer_id=customer.id,
        author_display_name=raw.author.display_name,
        author_bot=raw.author.bot,
        author_description=raw.author.description,
        visibility=raw.visibility,
        is_direct=raw.is_direct,
        channel_data=dict(raw.channel_data),
        text=raw.text,
        created_at=created_at,
        in_reply_to=raw.in_reply_to,
        thread_id=raw.thread_id or raw.in_reply_to or raw.external_id,
        addressed_hint=raw.addressed,
        intent=cls.intent.intent,
        intent_features=list(cls.intent.features),
        sentiment=SentimentScores(
            compound=cls.sentiment.compound,
            pos=cls.sentiment.pos,
            neu=cls.sentiment.neu,
            neg=cls.sentiment.neg,
        ),
        addressed=cls.addressed.addressed,
        addressed_via=cls.addressed.via,
        optout_requested=cls.opt_out.requested,
        optout_signal=cls.opt_out.signal,
        language=cls.language,
        intents=list(cls.intent.intents),
    )


async def _register_opt_out(
    conn: Conn, customer: Identity, mention_id: int, cls: Classification
) -> int:
    opt_out, created = await opt_outs.add_opt_out(
        conn,
        channel=customer.channel,
        handle=customer.id,
        reason=f"asked in mention {mention_id}: {cls.opt_out.phrase!r}",
        source="mention",
        created_by="system",
        mention_id=mention_id,
    )
    if not created:
        return 0
    await audit.append(
        conn,
        kind="opt_out_added",
        actor="system",
        subject=f"opt_out:{opt_out.id}",
        payload=await sealed_for(
            conn,
            {
                "opt_out_id": opt_out.id,
                "channel": opt_out.channel,
                "handle": opt_out.handle,
                "source": "mention",
                "mention_id": mention_id,
                "phrase": cls.opt_out.phrase,
            },
            channel=opt_out.channel,
            customer=opt_out.handle,
        ),
    )
    log.info("opt_out_registered", opt_out_id=opt_out.id, mention_id=mention_id)
    return 1
