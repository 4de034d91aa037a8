"""Sentiment: a compound score in -1 .. 1 and the pos / neu / neg proportions.

English texts are scored by VADER; every other classified language by the same method on
its own word list (``LanguageRules.sentiment_words``): each word's valence, scaled by a
booster word before it and flipped (x -0.74, VADER's factor) by a negator among the three
words before it, summed and normalised as VADER does (``x / sqrt(x² + 15)``).

Then the intent lexicons' evidence is added to that sum, in every language, because
customers' complaints are mostly told in neutral words VADER does not score ("my package
never arrived" scores 0.0): each complaint term (at most three) adds -2.0, each soft
complaint term (at most two) -1.0, each complaint emoji -1.5 and each praise term (at
most three) or praise emoji +1.6. A term after a contrast word ("but") counts 1.5
times, one before it half. In a sarcastic post (praise words and a complaint without a
contrast) the positive part of the text's own score is dropped: "oh great, another
outage" is not positive.

@-handles and the ``#`` of hashtags are removed first: a handle is no sentiment (VADER
scores the word "acme" as positive), a hashtag's word is.

Loading VADER's lexicon takes ~10 ms, so one ``SentimentScorer`` is built per classifier
and shared; it holds no mutable state (threads may share it).
"""

from __future__ import annotations

import math
import re

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from gateway.domain.classification import Sentiment
from gateway.pipeline.classify.intent import Signals, sarcastic
from gateway.pipeline.classify.rules import LanguageRules
from gateway.pipeline.classify.text import WORD

COMPLAINT_VALENCE = 2.0
SOFT_VALENCE = 1.0
EMOJI_VALENCE = 1.5
PRAISE_VALENCE = 1.6
_ALPHA = 15.0  # VADER's normalisation constant
_NEGATION = -0.74  # VADER's factor for a negated word
_BOOST = 0.293  # VADER's booster increment
# VADER's valence for words that name a service or ask for it in customer posts, where
# they carry no opinion ("@acme support, please help": 0.0, not 0.8), and for "you
# promised", "unbelievable", said in complaints.
_DOMAIN_VALENCE = {
    "support": 0.0,
    "supported": 0.0,
    "help": 0.0,
    "please": 0.0,
    "number": 0.0,
    "ok": 0.0,
    "okay": 0.0,
    "lol": 0.0,
    "promise": 0.0,
    "promised": 0.0,
    "unbelievable": -1.0,
}
_HANDLE = re.compile(r"@[\w.@-]+")
_HASH = re.compile(r"#(?=\w)")
_NEGATORS = frozenset(
    {
        "no",
        "not",
        "never",
        "nunca",
        "nadie",
        "nada",
        "nicht",
        "kein",
        "keine",
        "keinen",
        "nie",
        "niemals",
        "ne",
        "pas",
        "jamais",
        "personne",
        "rien",
        "não",
        "nao",
        "nem",
        "ninguém",
        "sem",
        "sin",
        "ohne",
    }
)


def _to_raw(compound: float) -> float:
    compound = max(-0.9999, min(0.9999, compound))
    return compound * math.sqrt(_ALPHA / (1 - compound * compound))


def _to_compound(raw: float) -> float:
    return max(-1.0, min(1.0, raw / math.sqrt(raw * raw + _ALPHA)))


def for_sentiment(prepared: str) -> str:
    """The text the sentiment scorers read: no handles, hashtags as words."""
    if "@" in prepared:
        prepared = _HANDLE.sub(" ", prepared)
    if "#" in prepared:
        prepared = _HASH.sub("", prepared)
    return prepared


class SentimentScorer:
    """VADER for English, word lists for the other languages; thread-safe."""

    def __init__(self) -> None:
        self._analyzer = SentimentIntensityAnalyzer()
        self._analyzer.lexicon.update(_DOMAIN_VALENCE)

    def score(self, text: str, rules: LanguageRules, signals: Signals) -> Sentiment:
        """``text`` is ``for_sentiment(prepared)``; ``signals`` the lexicons' findings."""
        if rules.code == "en":
            scores = self._analyzer.polarity_scores(text)
            raw = _to_raw(float(scores["compound"]))
            pos, neu, neg = float(scores["pos"]), float(scores["neu"]), float(scores["neg"])
        else:
            raw, pos, neu, neg = self._words(text.lower(), rules)
        if sarcastic(signals):
            raw = min(raw, 0.0)
        raw += _evidence(signals)
        compound = round(_to_compound(raw), 4)
        if compound < -0.05 and neg == 0.0:
            pos, neu, neg = 0.0, 0.7, 0.3  # evidence only the lexicons saw
        elif compound > 0.05 and pos == 0.0:
            pos, neu, neg = 0.3, 0.7, 0.0
        return Sentiment(compound=compound, pos=pos, neu=neu, neg=neg)

    @staticmethod
    def _words(lowered: str, rules: LanguageRules) -> tuple[float, float, float, float]:
        words = WORD.findall(lowered)
        total = pos = neg = 0.0
        for i, word in enumerate(words):
            valence = rules.sentiment_words.get(word)
            if valence is None:
                continue
            if i > 0 and words[i - 1] in rules.boosters:
                valence += _BOOST if valence > 0 else -_BOOST
            if any(w in _NEGATORS for w in words[max(0, i - 3) : i]):
                valence *= _NEGATION
            total += valence
            if valence > 0:
                pos += valence + 1
            else:
                neg += -valence + 1
        if "!" in lowered and total:
            total += min(lowered.count("!"), 4) * 0.292 * (1 if total > 0 else -1)
        neutral = float(len(words)) - (1 if pos else 0) - (1 if neg else 0)
        whole = pos + neg + max(neutral, 0.0) or 1.0
        return (
            total,
            round(pos / whole, 3),
            round(max(neutral, 0.0) / whole, 3),
            round(neg / whole, 3),
        )


def _weight(pos: int, contrast: int | None) -> float:
    if contrast is None:
        return 1.0
    return 1.5 if pos > contrast else 0.5


def _evidence(signals: Signals) -> float:
    shift = 0.0
    for _, pos in signals.complaint[:3]:
        shift -= COMPLAINT_VALENCE * _weight(pos, signals.contrast)
    for _, pos in signals.soft_complaint[:2]:
        shift -= SOFT_VALENCE * _weight(pos, signals.contrast)
    shift -= EMOJI_VALENCE * min(signals.complaint_emoji, 3)
    if not sarcastic(signals):
        for _, pos in signals.praise[:3]:
            shift += PRAISE_VALENCE * _weight(pos, signals.contrast)
        if signals.praise_emoji:
            shift += PRAISE_VALENCE
    return shift
