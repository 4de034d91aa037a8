"""Building the policy input from a mention, a draft reply and the customer's history."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from connectors.contract import ChannelLimits
from gateway.domain.policy_input import (
    AgentInput,
    Author,
    ChannelInput,
    CustomerInput,
    IntentScore,
    MentionInput,
    PolicyInput,
    ReplyInput,
    Thread,
)
from gateway.domain.records import CustomerHistory, Mention

_INTENTS = frozenset({"complaint", "question", "praise", "other", "unknown"})
_LINK = re.compile(r"\bhttps?://[^\s<>\"']+|\bwww\.[^\s<>\"']+", re.IGNORECASE)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def reply_length(text: str, limits: ChannelLimits | None) -> int:
    """Length in the channel's unit, as its contract counts it; code points without limits."""
    return limits.length(text) if limits is not None else len(text)


def _account_id(mention: Mention) -> str | None:
    value = mention.channel_data.get("account_id")
    return value if isinstance(value, str) and mention.customer_id else None


def extract_links(text: str) -> list[str]:
    return [m.group(0).rstrip(".,;:!?)") for m in _LINK.finditer(text)]


def build_policy_input(
    *,
    mention: Mention,
    text: str,
    ai_generated: bool,
    agent: str,
    agent_role: str,
    history: CustomerHistory,
    now: datetime,
    limits: ChannelLimits | None = None,
) -> PolicyInput:
    """The policy input; ``limits`` are the channel publisher's (length in its own unit).

    ``reply.bytes`` is always the text's UTF-8 size, so a byte limit (the publisher's, or
    ``channel_byte_limits`` in the policy data) is checked at decision time.
    """
    intent = mention.intent if mention.intent in _INTENTS else "other"
    flagged = mention.flagged_intent if mention.flagged_intent in _INTENTS else None
    return PolicyInput(
        mention=MentionInput(
            id=mention.id,
            channel=mention.channel,
            author=Author(
                handle=mention.author_handle,
                display_name=mention.author_display_name,
                bot=mention.author_bot,
                description=mention.author_description,
            ),
            text=mention.text,
            intent=intent,  # type: ignore[arg-type]  # narrowed by the check above
            sentiment=mention.sentiment.compound,
            addressed_brand=mention.addressed,
            thread=Thread(id=mention.thread_id, in_reply_to=mention.in_reply_to),
            created_at=rfc3339(mention.created_at),
            visibility=mention.visibility,
            is_direct=mention.is_direct,
            possible_opt_out=mention.optout_signal == "possible",
            intents=[
                IntentScore(intent=s.intent, score=s.score)
                for s in mention.intents
                if s.intent in _INTENTS
            ],
            language=mention.language,
            flagged_intent=flagged,  # type: ignore[arg-type]  # narrowed by the check above
        ),
        reply=ReplyInput(
            text=text,
            length=reply_length(text, limits),
            links=extract_links(text),
            ai_generated=ai_generated,
            bytes=len(text.encode("utf-8", "surrogatepass")),  # never raises
        ),
        agent=AgentInput(id=agent, roles=[agent_role]),
        customer=CustomerInput(
            identity=mention.customer_id,
            account_id=_account_id(mention),
            opted_out=history.opted_out,
            contacts_24h=history.contacts_24h,
            contacts_7d=history.contacts_7d,
            contacts_30d=history.contacts_30d,
            last_contact_at=rfc3339(history.last_contact_at) if history.last_contact_at else None,
            thread_replies=history.thread_replies,
            replied_since_last_contact=history.replied_since_last_contact,
        ),
        channel=ChannelInput(
            name=mention.channel,
            max_length=limits.max_length if limits else None,
            length_unit=limits.length_unit if limits else "characters",
            max_bytes=limits.max_bytes if limits else None,
            rate_budget=limits.rate_budget if limits else None,
        ),
        now=rfc3339(now),
    )
