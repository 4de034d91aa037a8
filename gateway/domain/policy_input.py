"""The policy input: the one document a Rego policy sees.

Defined once here; its JSON Schema is written to ``policies/input.schema.json`` and a
test fails when that file is stale. Policies never read a clock or the database: time
(``now``) and history (``customer``) are computed by the gateway and passed in, so every
stored decision can be replayed exactly.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Intent = Literal["complaint", "question", "praise", "other", "unknown"]
"""``unknown``: a language the classifier does not read (``mention.language``)."""

FlaggableIntent = Literal["complaint", "question", "praise", "other"]


class IntentScore(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    intent: Intent
    score: float  # 0.0 .. 1.0, how sure the classifier's rules are


class Author(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    handle: str
    display_name: str = ""
    bot: bool = False  # the channel marks the account as automated
    description: str = ""  # profile note / bio, plain text ("#nobot" may be written here)


class Thread(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    in_reply_to: str | None = None


class MentionInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: int
    channel: str
    author: Author
    text: str
    intent: Intent
    sentiment: float  # VADER compound, -1.0 .. 1.0
    addressed_brand: bool
    thread: Thread
    created_at: str  # RFC 3339, UTC
    visibility: str | None = None  # the channel's audience for the post, where it has one
    is_direct: bool = False  # a private message to the brand
    # The post may ask not to be answered ("don't reply to this", "not now"), not clearly
    # enough to register an opt-out; the default policy sends replies to review.
    possible_opt_out: bool = False
    # Every intent the classifier found, strongest first (``intent`` is the primary one):
    # "why is my order still not here?" is a complaint and a question. [] for mentions
    # classified before intents were reported.
    intents: list[IntentScore] = []
    # ISO 639-1 code of the mention's language; None when the text is too short to tell.
    language: str | None = None
    # The intent an agent said the mention really has (they flagged the classification
    # as wrong); None when nobody disagreed. The default policy sends replies to review.
    flagged_intent: FlaggableIntent | None = None


class ReplyInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    text: str
    length: int  # in channel.length_unit: characters (code points) or graphemes
    links: list[str]
    ai_generated: bool = False
    # UTF-8 size of text; None only in inputs recorded before the gateway sent it.
    bytes: int | None = None


class AgentInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    roles: list[str]


class CustomerInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # The canonical identity (docs/policies.md, "Customer identity"): user@instance on
    # Mastodon, the DID on Bluesky, the cleaned handle elsewhere; null once erased.
    identity: str | None = None
    account_id: str | None = None  # the channel's own account id, where it has one (Mastodon)
    opted_out: bool
    contacts_24h: int  # replies approved or released to this customer, any thread
    contacts_7d: int
    contacts_30d: int
    last_contact_at: str | None  # RFC 3339, UTC
    thread_replies: int  # replies approved or released in this mention's thread
    replied_since_last_contact: bool  # the customer posted in the thread after our last reply


class ChannelInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    max_length: int | None = None  # None: take data.engagement.channel_limits
    length_unit: str = "characters"  # or "graphemes" (Bluesky); reply.length uses it
    max_bytes: int | None = None  # UTF-8 bytes; None: take data.engagement.channel_byte_limits
    rate_budget: str | None = None  # the channel's published budget, e.g. "300 requests / 5 min"


class PolicyInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    action: Literal["reply"] = "reply"
    mention: MentionInput
    reply: ReplyInput
    agent: AgentInput
    customer: CustomerInput
    channel: ChannelInput
    now: str  # RFC 3339, UTC


def input_schema_json() -> bytes:
    """The JSON Schema of PolicyInput, as committed in ``policies/input.schema.json``."""
    schema = msgspec.json.schema(PolicyInput)
    schema["$comment"] = (
        "Generated from gateway/domain/policy_input.py by `python -m gateway policy schema`; "
        "do not edit by hand."
    )
    return msgspec.json.format(msgspec.json.encode(schema, order="sorted"), indent=2) + b"\n"
