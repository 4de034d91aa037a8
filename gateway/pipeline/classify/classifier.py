"""The classifier's one entry point: every concern of one mention, in one call.

Pure and deterministic: the same text and flags always give the same ``Classification``.
Build one ``Classifier`` per process (loading VADER's lexicon takes ~10 ms) and share it;
it holds no mutable state, so threads may call it concurrently. Everything here is pure
Python CPU work, so callers run ``classify_many`` in a worker thread, never on the event
loop.

Each concern has its own module: ``text`` (preparation), ``sentiment`` (VADER),
``intent`` (lexicons and precedence), ``addressed`` (brand handles), ``opt_out`` (the
opt-out detector's signal).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from gateway.domain.classification import Classification
from gateway.pipeline.classify import lang_de, lang_en, lang_es, lang_fr, lang_pt
from gateway.pipeline.classify.addressed import BrandHandles
from gateway.pipeline.classify.intent import decide, find_signals, unknown_intent
from gateway.pipeline.classify.language import detect_language
from gateway.pipeline.classify.opt_out import opt_out_request
from gateway.pipeline.classify.rules import LanguageRules
from gateway.pipeline.classify.sentiment import SentimentScorer, for_sentiment
from gateway.pipeline.classify.text import lower, prepare

RULES: dict[str, LanguageRules] = {
    rules.code: rules
    for rules in (lang_en.RULES, lang_es.RULES, lang_de.RULES, lang_fr.RULES, lang_pt.RULES)
}
"""The classified languages; a text with no detectable language is read as English."""


class ClassifyItem(msgspec.Struct, frozen=True, kw_only=True):
    """One mention to classify in a batch; the fields are ``Classifier.classify``'s."""

    text: str
    in_reply_to_handle: str | None = None
    is_direct: bool = False
    connector_addressed: bool | None = None
    context_intent: str | None = None


class Classifier:
    """Classifies mention texts for one brand; build once, share freely (no mutable state).

    ``brand_handles``: the brand's accounts, e.g. ``["@acme", "acme@mastodon.example",
    "acme.bsky.social"]``. Raises ``ValueError`` for a string that is not a handle and
    ``TypeError`` when given one string instead of a sequence of them.
    """

    def __init__(self, brand_handles: Sequence[str]) -> None:
        self._handles = BrandHandles(brand_handles)
        self.brand_handles = tuple(brand_handles)  # as given: a worker process rebuilds it
        self._sentiment = SentimentScorer()

    def classify(
        self,
        text: str,
        *,
        in_reply_to_handle: str | None = None,
        is_direct: bool = False,
        connector_addressed: bool | None = None,
        context_intent: str | None = None,
    ) -> Classification:
        """Classify one mention. Never raises for a ``str``.

        ``in_reply_to_handle``: the handle of the author of the post this one replies to.
        ``is_direct``: the mention arrived as a direct/private message to the brand.
        ``connector_addressed``: the connector's own verdict, None when it cannot tell.
        ``context_intent``: the intent of the post this one replies to, when known (a
        short reply in a complaint thread continues the complaint).
        """
        prepared = prepare(text)
        language = detect_language(prepared)
        rules = RULES.get(language or "en")
        signals = find_signals(rules or lang_en.RULES, lower(prepared))
        if rules is None:  # a language the rules do not read: no lexicon evidence
            signals = find_signals(lang_en.RULES, "")
        sentiment = self._sentiment.score(for_sentiment(prepared), rules or lang_en.RULES, signals)
        if rules is None:
            intent = unknown_intent(language or "und")
        else:
            intent = decide(signals, sentiment.compound, context_intent)
        return Classification(
            sentiment=sentiment,
            intent=intent,
            addressed=self._handles.addressed(
                prepared, in_reply_to_handle, is_direct, connector_addressed
            ),
            opt_out=opt_out_request(text),
            language=language,
        )

    def classify_many(self, items: Iterable[ClassifyItem | str]) -> list[Classification]:
        """Classify a batch, in order; a plain ``str`` is a mention with no flags set.

        Equal, item by item, to calling ``classify``; meant to run in a worker thread.
        """
        results: list[Classification] = []
        for item in items:
            if isinstance(item, str):
                results.append(self.classify(item))
                continue
            results.append(
                self.classify(
                    item.text,
                    in_reply_to_handle=item.in_reply_to_handle,
                    is_direct=item.is_direct,
                    connector_addressed=item.connector_addressed,
                    context_intent=item.context_intent,
                )
            )
        return results
