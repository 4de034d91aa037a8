"""Intent: complaint, question, praise or other, and every intent present with a score.

The same engine reads every classified language through its ``LanguageRules``
(``lang_*.py``). First the lexicons are searched (``find_signals``); the sentiment scorer
uses what they found; then ``decide`` applies, in order of precedence:

1. complaint: a complaint term (``broken``, ``still waiting``, ``never arrived``, a
   complaint emoji ...), or a compound <= -0.35 with no question signal, or <= -0.6 even
   with one. "Soft" terms that also occur in satisfied posts (``refund``, ``cancel``,
   ``late`` ...) count only while the compound is < 0.5. A complaint asked as a question
   ("why is my order still not here?") is a complaint *and* a question.
2. question: a ``?``, a sentence starting like a question (``how``/``why``, a wh-word with
   a verb, an auxiliary with a subject: ``can you``, ``is there``; not a sentence ending
   in ``!``), or a help phrase (``help me``, ``anyone know``).
3. praise: a praise term (or emoji) and a compound >= 0.3. Praise and a complaint in one
   post count both only with a contrast between them ("love the sound but it keeps
   dropping"); without one the praise is sarcasm ("oh great, another outage") and is
   dropped (feature ``sarcasm:<term>``).
4. other; also a polite refusal ("no thanks, not interested") that is negative only in
   tone. A reply in a complaint thread (``context_intent``) with no signal of its own
   that is not an acknowledgement ("ok", "will do") continues the complaint
   ("that's what you said last week").

Scores (0 .. 1) say how much evidence there is: terms and strong sentiment raise them.
``intents`` lists every intent that holds, primary first, then by score; a post with no
intent has ``[other]``.
"""

from __future__ import annotations

import re

import msgspec

from gateway.domain.classification import Intent, IntentResult, IntentScore
from gateway.pipeline.classify.rules import LanguageRules
from gateway.pipeline.classify.text import SENTENCE_BREAK

NEGATIVE_COMPOUND = -0.35
"""At or below this compound a text counts as a complaint on sentiment alone."""

STRONG_NEGATIVE_COMPOUND = -0.6
"""At or below this compound, sentiment alone outranks question signals."""

POSITIVE_COMPOUND = 0.5
"""At or above this compound soft complaint terms do not count."""

PRAISE_COMPOUND = 0.3
"""At or above this compound praise terms count as praise."""

_PRAISE_EMOJI = re.compile("\u2764|\U0001f60d|\U0001f970|\U0001f64c|\U0001f44f|\U0001f499")
_COMPLAINT_EMOJI = re.compile(
    "\U0001f621|\U0001f92c|\U0001f4a9|\U0001f44e|\U0001f644|\U0001f62d|\U0001f624|\U0001f620"
    "|\U0001f612|\U0001f926"
)


class Signals(msgspec.Struct, frozen=True, kw_only=True):
    """What the lexicons found in one text; positions are offsets in the lowered text."""

    complaint: list[tuple[str, int]]
    soft_complaint: list[tuple[str, int]]
    topic_complaint: list[tuple[str, int]]
    question: list[str]  # features: question_mark, interrogative_start:.., question_phrase:..
    praise: list[tuple[str, int]]
    contrast: int | None  # where the first contrast word starts
    ack: bool  # the text starts with an acknowledgement ("ok", "will do")
    decline: bool  # a polite refusal ("no thanks, not interested"): no complaint by tone
    complaint_emoji: int
    praise_emoji: bool


def _interrogative_starts(rules: LanguageRules, lowered: str) -> list[str]:
    found: list[str] = []
    for sentence in SENTENCE_BREAK.split(lowered):
        opener = rules.openers.match(sentence)
        body = sentence[opener.end() :] if opener is not None else sentence
        match = rules.interrogative.match(body)
        if match is None or body.rstrip().endswith("!"):
            continue
        lead = " ".join(next(g for g in match.groups() if g is not None).split())
        if lead not in found:
            found.append(lead)
    return found


def find_signals(rules: LanguageRules, lowered: str) -> Signals:
    lexicons = rules.lexicons
    matches = lexicons.find_all(lowered, lexicons.starts(lowered))

    def found(name: str) -> list[tuple[str, int]]:
        return [(label, m.start()) for label, m in matches.get(name, ())]

    question = ["question_mark"] if "?" in lowered else []
    question += [f"interrogative_start:{w}" for w in _interrogative_starts(rules, lowered)]
    question += [f"question_phrase:{label}" for label, _ in matches.get("question", ())]
    contrast = found("contrast")
    ack = found("ack")
    opener = rules.openers.match(lowered)
    first_word = opener.end() if opener is not None else 0
    return Signals(
        complaint=found("complaint"),
        soft_complaint=found("soft_complaint"),
        topic_complaint=found("topic_complaint"),
        question=question,
        praise=found("praise"),
        contrast=contrast[0][1] if contrast else None,
        ack=any(pos <= first_word for _, pos in ack),
        decline=bool(found("decline")),
        complaint_emoji=len(_COMPLAINT_EMOJI.findall(lowered)),
        praise_emoji=_PRAISE_EMOJI.search(lowered) is not None,
    )


def mixed(signals: Signals) -> bool:
    """Praise and a complaint joined by a contrast word: both intents hold."""
    if signals.contrast is None or not signals.praise or not signals.complaint:
        return False
    pivot = signals.contrast
    praise_before = any(pos < pivot for _, pos in signals.praise)
    complaint_after = any(pos > pivot for _, pos in signals.complaint)
    complaint_before = any(pos < pivot for _, pos in signals.complaint)
    praise_after = any(pos > pivot for _, pos in signals.praise)
    return (praise_before and complaint_after) or (complaint_before and praise_after)


def sarcastic(signals: Signals) -> bool:
    """Praise words in a post whose complaint they do not contrast with."""
    return bool(signals.praise) and bool(signals.complaint) and not mixed(signals)


def decide(signals: Signals, compound: float, context_intent: str | None) -> IntentResult:
    """The intent, every intent present with a score, and the features that decided it."""
    terms = [label for label, _ in signals.complaint]
    if compound < POSITIVE_COMPOUND:
        terms += [label for label, _ in signals.soft_complaint]
    # A topic ("refund", "cancel") is a complaint in a statement, not in a calm question.
    if compound < POSITIVE_COMPOUND and (not signals.question or compound <= -0.05):
        terms += [label for label, _ in signals.topic_complaint]
    complaint = [f"complaint_term:{t}" for t in terms]
    if signals.complaint_emoji:
        complaint.append("complaint_term:emoji")
    if compound <= NEGATIVE_COMPOUND:
        complaint.append(f"negative_sentiment:{compound:.2f}")
    question = list(signals.question)
    praise_terms = [label for label, _ in signals.praise]
    if signals.praise_emoji:
        praise_terms.append("emoji")
    is_sarcasm = sarcastic(signals)
    praise = [f"sarcasm:{t}" if is_sarcasm else f"praise_term:{t}" for t in praise_terms]
    positive = [f"positive_sentiment:{compound:.2f}"] if compound >= PRAISE_COMPOUND else []

    scores: dict[Intent, float] = {}
    has_terms = bool(terms) or signals.complaint_emoji > 0
    strongly_negative = compound <= STRONG_NEGATIVE_COMPOUND
    by_tone = compound <= NEGATIVE_COMPOUND and (strongly_negative or not question)
    if has_terms or (by_tone and not signals.decline):
        evidence = len(terms) + signals.complaint_emoji
        scores["complaint"] = min(1.0, 0.55 + 0.15 * evidence + max(0.0, -compound) * 0.3)
    elif (
        context_intent == "complaint"
        and not question
        and not praise_terms
        and not signals.ack
        and compound < PRAISE_COMPOUND
    ):
        complaint.append("thread:complaint")
        scores["complaint"] = 0.55
    if question:
        scores["question"] = min(1.0, 0.5 + 0.15 * len(question))
    if praise_terms and not is_sarcasm and (compound >= PRAISE_COMPOUND or mixed(signals)):
        scores["praise"] = min(1.0, 0.4 + 0.1 * len(praise_terms) + max(0.0, compound) * 0.4)
    primary: Intent = next(
        (i for i in ("complaint", "question", "praise") if i in scores),
        "other",
    )
    rest = sorted((i for i in scores if i != primary), key=lambda i: -scores[i])
    intents = [IntentScore(intent=primary, score=round(scores.get(primary, 1.0), 2))]
    intents += [IntentScore(intent=i, score=round(scores[i], 2)) for i in rest]
    return IntentResult(
        intent=primary, features=complaint + question + praise + positive, intents=intents
    )


def unknown_intent(language: str) -> IntentResult:
    """A language the classifier does not read: no rule applies."""
    return IntentResult(
        intent="unknown",
        features=[f"language_unsupported:{language}"],
        intents=[IntentScore(intent="unknown", score=1.0)],
    )
