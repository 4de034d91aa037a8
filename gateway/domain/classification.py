"""What the gateway concludes about one mention when it is ingested.

A ``Classification`` is computed once per mention by ``gateway.pipeline.classify``, stored
with the mention, shown to agents in the inbox and copied into the policy input
(``intent``, ``sentiment.compound``, ``addressed.addressed``). Every field is derived from
the mention alone, deterministically, so the same text and flags always give the same value.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Intent = Literal["complaint", "question", "praise", "other", "unknown"]
"""``unknown``: the text is in a language the classifier does not read (only en, es, de, fr
and pt are classified); the default policy sends replies to such posts to review."""

FlaggableIntent = Literal["complaint", "question", "praise", "other"]
"""What an agent may say a mention really is."""

AddressedVia = Literal["mention", "reply", "direct", "connector"]


class Sentiment(msgspec.Struct, frozen=True, kw_only=True):
    """VADER's scores, unchanged.

    ``compound`` is in -1.0 .. 1.0 (negative to positive); ``pos``, ``neu`` and ``neg`` are
    the proportions of the text in each class, each in 0.0 .. 1.0, summing to about 1.0.
    """

    compound: float
    pos: float
    neu: float
    neg: float


class IntentScore(msgspec.Struct, frozen=True, kw_only=True):
    """One intent present in a mention, with how sure the rules are (0.0 .. 1.0)."""

    intent: Intent
    score: float


class IntentResult(msgspec.Struct, frozen=True, kw_only=True):
    """The intent and every rule signal that fired, so a person can see why.

    ``features`` lists all signals found, in a fixed order (complaint, question, praise,
    sentiment), including ones that lost on precedence; for example a complaint asked as a
    question has both ``complaint_term:still not`` and ``question_mark``. Formats:
    ``complaint_term:<term>``, ``negative_sentiment:<compound>``, ``question_mark``,
    ``interrogative_start:<words>``, ``question_phrase:<phrase>``, ``praise_term:<term>``,
    ``positive_sentiment:<compound>``; compounds are written with two decimals.
    """

    intent: Intent
    features: list[str]
    # Every intent present, strongest first; the first is ``intent`` (for "other" and
    # "unknown" the list holds only that). A complaint asked as a question holds both.
    intents: list[IntentScore] = []


class Addressed(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the author spoke to the brand, and by which evidence.

    ``via`` is None exactly when ``addressed`` is False. ``handle`` is the configured brand
    handle that matched, in canonical form (``@user`` or ``@user@domain``, lower case), or
    None when the evidence names no handle (a direct message or a connector flag with no
    brand handle in the text or the reply target).
    """

    addressed: bool
    via: AddressedVia | None = None
    handle: str | None = None


OptOutSignal = Literal["none", "possible", "requested"]


class OptOutRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the text asks the brand not to contact the author.

    ``signal``: ``requested`` (an unmistakable request: ingest registers an opt-out),
    ``possible`` (an ambiguous wish not to be answered, such as "don't reply to this": no
    opt-out, replies go to review) or ``none``. ``requested`` is ``signal == "requested"``,
    kept for existing readers. ``phrase`` is the text that decided it (original spelling,
    whitespace collapsed) and ``rule`` the detector rule (``<lang>:<name>``); both None for
    ``none``.
    """

    requested: bool
    signal: OptOutSignal = "none"
    phrase: str | None = None
    rule: str | None = None


class Classification(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the classifier says about one mention."""

    sentiment: Sentiment
    intent: IntentResult
    addressed: Addressed
    opt_out: OptOutRequest
    language: str | None = None  # ISO 639-1 code; None when the text is too short to tell
