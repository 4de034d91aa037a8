"""Worst-case policy inputs: the largest and oddest texts the API lets through.

Used twice: a test proves the shipped policy decides each of them far inside the policy
timeout, and activation times every candidate revision on them (with the stored inputs),
so a revision that is slow only on an unusual input is refused before it runs live.
Sizes follow the API's bounds (10,000-character texts, 5,000-character profile notes,
500-character handles and names).
"""

from __future__ import annotations

from gateway.domain.policy_input import (
    AgentInput,
    Author,
    ChannelInput,
    CustomerInput,
    MentionInput,
    PolicyInput,
    ReplyInput,
    Thread,
)

TEXT_MAX = 10_000
NOTE_MAX = 5_000
SHORT_MAX = 500
_NOW = "2026-01-01T00:00:00Z"

# Each is TEXT_MAX code points (or close) of something a tokenizer or regex may hate.
_TEXTS: dict[str, str] = {
    "plain": "a" * TEXT_MAX,
    "words": ("refund " * (TEXT_MAX // 7))[:TEXT_MAX],
    "combining": "a" + "\u0301" * (TEXT_MAX - 1),  # one grapheme, 10,000 code points
    "emoji_zwj": ("\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466" * TEXT_MAX)[
        :TEXT_MAX
    ],
    "flags": ("\U0001f1fa\U0001f1f8" * TEXT_MAX)[:TEXT_MAX],
    "bidi": ("\u202e\u2066abc\u2069\u202c" * TEXT_MAX)[:TEXT_MAX],
    "astral": ("\U0001d54f" * TEXT_MAX)[:TEXT_MAX],
    "whitespace": (" \t\n\u00a0\u2028\u3000" * TEXT_MAX)[:TEXT_MAX],
    "links": ("https://x.example/a?b=c " * TEXT_MAX)[:TEXT_MAX],
    "digits": ("4111 1111 1111 1111 " * TEXT_MAX)[:TEXT_MAX],  # card-like numbers
    "emails": ("a@b.example " * TEXT_MAX)[:TEXT_MAX],
    "hashtags": ("#nobot#" * TEXT_MAX)[:TEXT_MAX],
    "mentions": ("@acme " * TEXT_MAX)[:TEXT_MAX],
    "near_misses": ("ref und lawyer sue d " * TEXT_MAX)[:TEXT_MAX],
    "regex_bait": ("(((((a*)*)*)*)*" + "a" * 30 + "!") * (TEXT_MAX // 46),
}


def pathological_inputs() -> list[PolicyInput]:
    """One input per kind of text, the text in both the mention and the reply."""
    return [_input(text, kind) for kind, text in _TEXTS.items()]


def _input(text: str, kind: str) -> PolicyInput:
    handle = ("@" + kind + "x" * SHORT_MAX)[:SHORT_MAX]
    return PolicyInput(
        mention=MentionInput(
            id=1,
            channel="demo",
            author=Author(
                handle=handle,
                display_name=text[:SHORT_MAX],
                description=text[:NOTE_MAX],
            ),
            text=text,
            intent="complaint",
            sentiment=-0.9,
            addressed_brand=True,
            thread=Thread(id=text[:SHORT_MAX], in_reply_to=text[:SHORT_MAX]),
            created_at=_NOW,
            visibility="public",
        ),
        reply=ReplyInput(
            text=text,
            length=len(text),
            links=[word for word in text.split() if word.startswith("https://")][:1000],
            ai_generated=False,
        ),
        agent=AgentInput(id="agent", roles=["agent"]),
        customer=CustomerInput(
            opted_out=False,
            contacts_24h=0,
            contacts_7d=0,
            contacts_30d=0,
            last_contact_at=None,
            thread_replies=0,
            replied_since_last_contact=False,
        ),
        channel=ChannelInput(name="demo"),
        now=_NOW,
    )
