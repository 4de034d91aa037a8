"""Intent of an English mention: complaint, question, praise or other.

In order of precedence (the first that holds wins):

1. complaint: a complaint term (``broken``, ``still waiting``, ``charged twice``,
   ``never arrived``, ``worst``, ...), or VADER compound <= -0.35 with no question signal,
   or compound <= -0.6 even with one. "Soft" terms that also occur in satisfied posts
   (``refund``, ``cancel``, ``error``, ``bug``, ``late``, ...) count only while
   compound < 0.5, so "got my refund in a day, great service" is praise. A complaint
   phrased as a question ("why is my order still not here?") is a complaint; a neutral
   question on a gloomy topic ("does the warranty cover water damage?", -0.49) is not.
2. question: a ``?``, a sentence starting with an interrogative (``how``/``why``, a
   wh-word followed by a verb, an auxiliary followed by a subject: ``can you``,
   ``is there``; not a sentence ending in ``!``, which is usually an exclamation), or a
   help phrase (``help me``, ``anyone know``, ``is there a way``).
3. praise: a praise term (``love``, ``thanks``, ``great``, ``best``, a heart, ...) and
   compound >= 0.5.
4. other.

Terms follow the negation rule of ``lexicon.py``. Sarcasm is caught only when a complaint
term is present ("love waiting 3 weeks for a package"); "oh great, just what I needed" is
praise, a known limit of lexical rules.
"""

from __future__ import annotations

import re

from gateway.domain.classification import Intent, IntentResult
from gateway.pipeline.classify.lexicon import LexiconSet
from gateway.pipeline.classify.text import SENTENCE_BREAK

NEGATIVE_COMPOUND = -0.35
"""At or below this VADER compound a text counts as a complaint on sentiment alone."""

STRONG_NEGATIVE_COMPOUND = -0.6
"""At or below this compound, sentiment alone outranks question signals."""

POSITIVE_COMPOUND = 0.5
"""At or above this compound praise terms count and soft complaint terms do not."""


_NOT_YET = r"(?:hasn't|haven't|didn't|not)"  # "has not arrived" contains "not arrived"
_ANSWERS = r"(?:answers|replies|responds|cares|helps)"
_CANNOT = r"(?:can't|cannot|can not|unable to|couldn't)(?: i| we)?"

_COMPLAINT_TERMS: dict[str, str] = {
    "broken": r"broken|broke down",
    "not working": r"(?:not|isn't|is not|doesn't|does not|don't|won't|stopped|no longer|never)"
    r" work(?:s|ing|ed)?",
    "still waiting": r"still waiting",
    "still not": r"still (?:not|isn't|hasn't|haven't|have not|has not) (?:here|arrived|"
    r"received|delivered|working|fixed|resolved|shipped|refunded|sorted|heard|got|gotten|"
    r"come)|still no (?:refund|reply|response|answer|update|word|package|order|delivery)|"
    r"still can't|still cannot",
    "waiting for ages": r"waiting (?:for )?(?:over |almost |nearly )?(?:\d+|a|an|two|three|"
    r"four|five|six|several) (?:days?|weeks?|months?|hours?)",
    "worst": r"worst",
    "terrible": r"terrible|horrible|awful|appalling|atrocious|pathetic|disgusting|dreadful",
    "charged twice": r"charged (?:me )?(?:twice|two times|double)|double[- ]charged|"
    r"overcharged|charged me again",
    "never arrived": r"never (?:arrived|came|showed up|got delivered|received)|"
    + "|".join(f"{_NOT_YET} {what}" for what in ("arrived", "been delivered", "received"))
    # the lookbehinds come last so the search can skip ahead to "not here"
    + "|not here(?:"
    + "|".join(f"(?<={what} not here)" for what in ("is", "it's", "still", "order", "parcel"))
    + ")",
    "disappointed": r"disappoint(?:ed|ing|ment)",
    "useless": r"useless",
    "unacceptable": r"unacceptable|ridiculous|outrageous|a joke|do better",
    "scam": r"scam(?:med)?|rip[- ]?off|ripped off|fraud(?:ulent)?",
    "crashing": r"crash(?:es|ed|ing)?|keeps? (?:failing|freezing|logging me out|breaking)",
    "outage": r"outages?|down again",
    "on hold": r"(?:hours?|minutes?|mins?) on hold|on hold for",
    "no response": r"no response|no reply|no answer|ignored|ghosted|"
    + "|".join(f"{who} {_ANSWERS}" for who in ("nobody", "no one", "noone")),
    "rude": r"rude",
    "fed up": r"fed up|sick (?:and tired )?of|tired of",
    "never again": r"never (?:again|buying|ordering|using|shopping|recommend)",
    "frustrated": r"frustrat(?:ed|ing|ion)",
    "annoyed": r"annoy(?:ed|ing)",
    "angry": r"angry|furious|livid",
    "complaint": r"complain(?:t|ts|ing)?",
    "thanks for nothing": r"thanks for nothing",
    "defective": r"defective|faulty|damaged",
    "wrong item": r"wrong (?:item|order|size|colou?r|product|package)",
    "cannot access": r"locked out|"
    + "|".join(f"{_CANNOT} {verb}" for verb in ("log ?in", "login", "sign ?in", "access", "pay")),
    "hacked": r"hacked|unauthori[sz]ed",
    "waste of money": r"waste of (?:time|money)",
    "fix this": r"fix (?:this|it|your)",
}
_SOFT_COMPLAINT_TERMS: dict[str, str] = {
    "refund": r"refunds?",
    "cancel": r"cancel(?:l?ed|l?ing|lation)?",
    "error": r"errors?(?!-free)",
    "bug": r"bug(?:s|gy)?",
    "late": r"(?:days|weeks|hours|arrived|still|is|was|running|again) late|"
    r"late (?:again|delivery|order|package)",
    "problem": r"problems? with|issues? with|having (?:a |an |some )?(?:problem|issue|trouble)s?",
    "missing": r"missing",
    "delayed": r"delay(?:ed|s)?",
    "slow": r"(?:so|too|really|very|painfully|super|is|are|still) slow",
}
_QUESTION_PHRASES: dict[str, str] = {
    "help me": r"help me",
    "anyone know": "|".join(
        f"{who} (?:know|knows|help)" for who in ("anyone", "anybody", "someone", "somebody")
    )
    + r"|can (?:anyone|anybody|someone|somebody)|could (?:anyone|anybody|someone|somebody)",
    "is there a way": r"is there (?:a|any) way|any ?way to",
    "how do i": r"how (?:do|can|should|would) (?:i|we)",
    "wondering": r"wondering (?:if|whether|how|why|when|what|where)",
    "need help": r"need (?:some )?help",
}
_PRAISE_TERMS: dict[str, str] = {
    "love": r"lov(?:e|ed|es|ing)",
    "thanks": r"thanks|thank (?:you|u)|thx|grateful",
    "great": r"great",
    "awesome": r"awesome",
    "amazing": r"amazing",
    "best": r"best",
    "excellent": r"excellent|outstanding|superb|fantastic|brilliant|wonderful|perfect",
    "well done": r"well done|nice (?:job|work)|great (?:job|work)|good (?:job|work)|kudos|"
    r"shout ?out|props",
    "impressed": r"impressed|lifesaver|life saver",
}
_PRAISE_EMOJI = re.compile("\u2764|\U0001f60d|\U0001f970|\U0001f64c|\U0001f44f|\U0001f499")

_PRAISE_EMOJI = re.compile("\u2764|\U0001f60d|\U0001f970|\U0001f64c|\U0001f44f|\U0001f499")

LEXICONS = LexiconSet(
    {
        "complaint": _COMPLAINT_TERMS,
        "soft_complaint": _SOFT_COMPLAINT_TERMS,
        "question": _QUESTION_PHRASES,
        "praise": _PRAISE_TERMS,
    },
    negators=("no", "not", "never", "without", "hardly", "zero", "nothing", "nobody"),
    stop_words=("stop", "stops", "quit", "quits"),
)

_OPENERS = re.compile(
    r"^(?:(?:@\S+|hey|hi|hello|yo|dear|so|ok|okay|um+|hmm+|also|and|but|please|pls|"
    r"quick\squestion|question)\b[\s,:;.-]*)*"
)
_INTERROGATIVE = re.compile(
    r"^(?:(?P<wh>how|why)\b|(?P<whv>what|where|when|who|which)(?:'s\b|\s(?:is|are|was|were|"
    r"do|does|did|can|could|should|would|will|happened|time|day)\b)|(?P<aux>(?:can|could|"
    r"would|will|do|does|did|is|are|should|has|have|was|were)\s(?:you|u|i|we|anyone|anybody|"
    r"someone|somebody|it|this|that|there|my|the|your|y'all))\b|(?P<any>any\s?(?:way|chance|"
    r"idea|ideas|update|news|eta|plans))\b)"
)


def _interrogative_starts(lowered: str) -> list[str]:
    found: list[str] = []
    for sentence in SENTENCE_BREAK.split(lowered):
        opener = _OPENERS.match(sentence)
        body = sentence[opener.end() :] if opener is not None else sentence
        match = _INTERROGATIVE.match(body)
        if match is None or body.rstrip().endswith("!"):
            continue
        lead = " ".join(next(g for g in match.groups() if g is not None).split())
        if lead not in found:
            found.append(lead)
    return found


def intent_of(lowered: str, compound: float) -> IntentResult:
    """The intent of lower-cased prepared text with VADER compound ``compound``."""
    starts = LEXICONS.starts(lowered)
    terms = LEXICONS.labels("complaint", lowered, starts)
    if compound < POSITIVE_COMPOUND:
        terms += LEXICONS.labels("soft_complaint", lowered, starts)
    complaint = [f"complaint_term:{t}" for t in terms]
    if compound <= NEGATIVE_COMPOUND:
        complaint.append(f"negative_sentiment:{compound:.2f}")
    question = ["question_mark"] if "?" in lowered else []
    question += [f"interrogative_start:{w}" for w in _interrogative_starts(lowered)]
    question += [f"question_phrase:{p}" for p in LEXICONS.labels("question", lowered, starts)]
    praise = [f"praise_term:{t}" for t in LEXICONS.labels("praise", lowered, starts)]
    if _PRAISE_EMOJI.search(lowered):
        praise.append("praise_term:emoji")
    positive = [f"positive_sentiment:{compound:.2f}"] if compound >= POSITIVE_COMPOUND else []
    # Sentiment alone is a blunt signal ("does the warranty cover water damage?" scores
    # -0.49), so without a complaint term it outranks a question only when strong.
    strongly_negative = compound <= STRONG_NEGATIVE_COMPOUND
    intent: Intent = "other"
    if terms or (complaint and (strongly_negative or not question)):
        intent = "complaint"
    elif question:
        intent = "question"
    elif praise and positive:
        intent = "praise"
    return IntentResult(intent=intent, features=complaint + question + praise + positive)
