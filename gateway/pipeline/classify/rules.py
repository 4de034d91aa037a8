"""What the classifier knows about one language: its lexicons and question grammar.

Each classified language has a module (``lang_en``, ``lang_es``, ``lang_de``, ``lang_fr``,
``lang_pt``) that builds one ``LanguageRules``. The intent engine (``intent.py``) and the
sentiment scorer (``sentiment.py``) are the same for every language; only these tables
differ, so a rule for one language is found in that language's file.

Lexicons (regex bodies, lower case, see ``lexicon.py``), each a ``LexiconSet`` name:

- ``complaint``: a problem with the brand's product or service ("broken", "never arrived")
- ``soft_complaint``: words that are complaints only when the text is not positive
  ("refund", "cancel", "late")
- ``question``: help phrases that ask without a ``?`` ("help me", "is there a way")
- ``praise``: thanks and compliments ("love", "thanks", "brilliant")
- ``contrast``: words that join praise to a complaint ("but", "shame"); praise and a
  complaint with a contrast between them is a post with both intents, without one it is
  sarcasm ("oh great, another outage") and the praise does not count

``sentiment_words`` (every language but English, which uses VADER): word → valence on
VADER's scale (-4 .. 4), matched as whole lower-case words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gateway.pipeline.classify.lexicon import LexiconSet


@dataclass(frozen=True, kw_only=True)
class LanguageRules:
    code: str  # ISO 639-1
    lexicons: LexiconSet
    openers: re.Pattern[str]  # greetings and fillers skipped before a sentence's first word
    interrogative: re.Pattern[str]  # a sentence that starts like a question
    sentiment_words: dict[str, float] = field(default_factory=dict)
    boosters: frozenset[str] = frozenset()  # "very", "muy", "sehr": a following word counts more
