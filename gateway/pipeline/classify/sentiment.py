"""Sentiment: VADER's scores for the prepared text.

Loading VADER's lexicon takes ~10 ms, so one ``SentimentScorer`` is built per classifier
and shared; it holds no mutable state. VADER costs 110-250 µs for a 280-character post.
"""

from __future__ import annotations

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from gateway.domain.classification import Sentiment


class SentimentScorer:
    """VADER behind one method; thread-safe (VADER keeps no state between calls)."""

    def __init__(self) -> None:
        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, prepared: str) -> Sentiment:
        scores = self._analyzer.polarity_scores(prepared)
        return Sentiment(
            compound=float(scores["compound"]),
            pos=float(scores["pos"]),
            neu=float(scores["neu"]),
            neg=float(scores["neg"]),
        )
