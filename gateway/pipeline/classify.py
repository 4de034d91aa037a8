"""Classify a mention on ingest: sentiment, intent, addressed-to-brand, opt-out request.

Pure and deterministic: the same text and flags always give the same ``Classification``.
Build one ``Classifier`` per process (loading VADER's lexicon takes ~10 ms) and share it;
it holds no mutable state, so threads may call it concurrently. A 280-character post
costs VADER's 110-250 µs plus about half that again for the rules, all pure Python, so
callers run ``classify_many`` in a worker thread, never on the event loop.

Text preparation: typographic apostrophes become ``'``, URLs are removed (a ``?`` in a
query string is not a question, a word in a path is not a sentiment), whitespace runs
collapse to one space (a newline stays a sentence break). All rules run on that text.

Intent, in order of precedence (the first that holds wins):

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

A term is ignored when ``no``/``not``/``never``/``...n't``/``without`` occurs in the three
words before it ("not disappointed", "no complaints", "couldn't help me"), except right
after "stop" ("won't stop crashing"). Sarcasm is caught only when a complaint term is
present ("love waiting 3 weeks for a package"); "oh great, just what I needed" is praise,
a known limit of lexical rules.

Addressed, in order of precedence: ``connector_addressed=True`` (the connector resolved the
mention structurally) > ``is_direct`` > a reply to a brand handle > an @-mention of a brand
handle in the text. ``connector_addressed=False`` means the connector resolved the post's
mentions and none is the brand, so the textual @-mention heuristic is skipped; replies and
direct messages still count. Handles compare case-insensitively with the leading ``@``
optional. A handle configured with a domain (``acme@mastodon.example``) matches
``@acme@mastodon.example`` and the bare ``@acme`` (how a local mention is written on its
instance); a handle configured without one (``@acme``, ``acme.bsky.social``) matches only
the bare form, never ``@acme@elsewhere.example``, which is another account. A mention must
be the whole handle: ``@acme`` does not match ``@acmetools`` or ``@acme_support``.

Opt-out request: ``gateway.pipeline.opt_out_detect`` (normalisation, per-language
patterns, negation); its signal is ``requested`` (ingest registers an opt-out), ``possible``
(an ambiguous wish not to be answered: replies go to review) or ``none``. ``#nobot`` is not
reported here; policy reads that marker itself.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from gateway.domain.classification import (
    Addressed,
    Classification,
    Intent,
    IntentResult,
    OptOutRequest,
    Sentiment,
)
from gateway.pipeline.opt_out_detect import detect_opt_out

NEGATIVE_COMPOUND = -0.35
"""At or below this VADER compound a text counts as a complaint on sentiment alone."""

STRONG_NEGATIVE_COMPOUND = -0.6
"""At or below this compound, sentiment alone outranks question signals."""

POSITIVE_COMPOUND = 0.5
"""At or above this compound praise terms count and soft complaint terms do not."""


class ClassifyItem(msgspec.Struct, frozen=True, kw_only=True):
    """One mention to classify in a batch; the fields are ``Classifier.classify``'s."""

    text: str
    in_reply_to_handle: str | None = None
    is_direct: bool = False
    connector_addressed: bool | None = None


# --- lexicon machinery -----------------------------------------------------------------------
#
# Python's ``re`` tries every branch of an alternation at every position, so one regex
# holding the whole lexicon cost more than VADER itself. Instead each top-level alternative
# of a term is compiled on its own, with an "anchor": a literal that every match of it
# contains. One scan for all anchors (a trie-shaped regex) tells which few alternatives
# can match at all and where their search needs to start.

_KEYS = itertools.count()
_REACH = 80
"""How far before its anchor a match may start (longer than any prefix in our patterns)."""


class _Alternative(msgspec.Struct, frozen=True, kw_only=True):
    key: int  # unique across lexicons
    anchor: str
    pattern: re.Pattern[str]


class _Term(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    negatable: bool  # skip a match with a negator just before it
    alternatives: tuple[_Alternative, ...]


def _split(body: str) -> list[tuple[str, str]]:
    """The top-level alternatives of ``body``, each with a literal every match contains.

    The literal is the longest run of characters outside groups, classes and escapes and
    not made optional by ``?``, ``*`` or ``{``; a space stays (prepared text has single
    spaces once line breaks are flattened). Raises ``ValueError`` for an alternative
    without one: spell such a term out per alternative.
    """
    found: list[tuple[str, str]] = []
    skeleton, begin, depth, i = "", 0, 0, 0
    while i <= len(body):
        ch = body[i] if i < len(body) else "|"
        if depth == 0 and ch == "|":
            anchor = max(skeleton.split("\0"), key=len)
            if not anchor.strip():
                raise ValueError(f"alternative needs a required literal: {body[begin:i]!r}")
            found.append((body[begin:i], anchor))
            skeleton, begin = "", i + 1
        elif ch == "\\":
            i += 1
            skeleton += "\0"
        elif ch == "[":
            i = body.index("]", i + 1)
            skeleton += "\0"
        elif ch in "()":
            depth += 1 if ch == "(" else -1
            skeleton += "\0"
        elif depth == 0 and ch in "?*{":
            skeleton = skeleton[:-1] + "\0"
            i = body.index("}", i) if ch == "{" else i
        else:
            literal = depth == 0 and (ch.isalnum() or ch in " '#@-_")
            skeleton += ch if literal else "\0"
        i += 1
    return found


def _trie(words: Iterable[str]) -> str:
    """A regex matching the longest of ``words`` that starts at a position, shaped as a
    trie so ``re`` tries one branch per possible next character, not one per word."""
    root: dict[str, dict[str, Any]] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + render(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return render(root)


def _compile(terms: dict[str, str]) -> tuple[_Term, ...]:
    """Terms are lower-case patterns matched against lower-cased text; a literal space in a
    pattern means one whitespace character (prepared text has single spaces or newlines).
    Every match must start a word (checked in ``_find``: a leading ``\\b`` would stop
    ``re`` from skipping ahead to a possible first character) and must end one."""
    return tuple(
        _Term(
            label=label,
            negatable=True,
            alternatives=tuple(
                _Alternative(
                    key=next(_KEYS),
                    anchor=anchor,
                    pattern=re.compile(rf"(?:{source})\b".replace(" ", r"\s")),
                )
                for source, anchor in _split(body)
            ),
        )
        for label, body in terms.items()
    )


# --- lexicons ----------------------------------------------------------------------------------

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

_COMPLAINT = _compile(_COMPLAINT_TERMS)
_SOFT_COMPLAINT = _compile(_SOFT_COMPLAINT_TERMS)
_QUESTION = _compile(_QUESTION_PHRASES)
_PRAISE = _compile(_PRAISE_TERMS)
_ANCHOR_KEYS: dict[str, list[int]] = {}
for _term in (*_COMPLAINT, *_SOFT_COMPLAINT, *_QUESTION, *_PRAISE):
    for _alternative in _term.alternatives:
        _ANCHOR_KEYS.setdefault(_alternative.anchor, []).append(_alternative.key)
_BY_KEY = {
    alternative.key: (lexicon, order, term, alternative.pattern)
    for lexicon in (_COMPLAINT, _SOFT_COMPLAINT, _QUESTION, _PRAISE)
    for order, term in enumerate(lexicon)
    for alternative in term.alternatives
}
# Every anchor that occurs where a longer one does is a prefix of it.
_OCCURRING_KEYS = {
    anchor: tuple(
        k for other, keys in _ANCHOR_KEYS.items() if anchor.startswith(other) for k in keys
    )
    for anchor in _ANCHOR_KEYS
}
_ANCHOR_SCAN = re.compile(f"(?=({_trie(_ANCHOR_KEYS)}))")
del _ANCHOR_KEYS, _term, _alternative

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

# --- text helpers ------------------------------------------------------------------------------

_APOSTROPHES = ("\u2019", "\u2018", "\u02bc", "\uff07")
_ASCII_LOWER = str.maketrans({chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)})
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# The lookbehind comes after the "@" so the scan jumps from "@" to "@" instead of running
# at every position: an "@" after a word character, "@" or "/" is an address or a URL.
_MENTION = re.compile(
    r"@(?<![\w@/]@)(?P<user>\w+(?:[.-]\w+)*)(?:@(?P<domain>[\w-]+(?:\.[\w-]+)+))?"
)
_HANDLE = re.compile(r"@?(?P<user>\w+(?:[.-]\w+)*)(?:@(?P<domain>[\w-]+(?:\.[\w-]+)+))?")
_WORD = re.compile(r"[\w']+")
# Prepared text has single spaces; the lookbehind follows the space so "re" can skip
# ahead to spaces and newlines instead of testing it at every position.
_SENTENCE_BREAK = re.compile(r" (?<=[.!?] )|\n")
_NEGATORS = frozenset({"no", "not", "never", "without", "hardly", "zero", "nothing", "nobody"})
_STOP_WORDS = frozenset({"stop", "stops", "quit", "quits"})


def _prepare(text: str) -> str:
    for typographic in _APOSTROPHES:
        if typographic in text:
            text = text.replace(typographic, "'")
    if "://" in text or "www." in text or "WWW." in text:
        text = _URL.sub(" ", text)
    if "\n" not in text:
        return " ".join(text.split())
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _starts(lowered: str) -> dict[int, int]:
    """Where each alternative that can match ``lowered`` should start looking, by key."""
    starts: dict[int, int] = {}
    for match in _ANCHOR_SCAN.finditer(lowered.replace("\n", " ")):
        pos = max(0, match.start() - _REACH)
        for key in _OCCURRING_KEYS[match.group(1)]:
            starts.setdefault(key, pos)  # the scan runs left to right: first is earliest
    return starts


def _lower(text: str) -> str:
    """Lower case with the same length, so a span found here slices the original text."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _negated(lowered: str, start: int) -> bool:
    """True when a negator is among the three words before ``start``, unless the word
    right before is "stop": "won't stop crashing" asserts the crashing."""
    before = _WORD.findall(lowered, max(0, start - 40), start)[-3:]
    if before and before[-1] in _STOP_WORDS:
        return False
    return any(w in _NEGATORS or w.endswith("n't") for w in before)


def _first(
    pattern: re.Pattern[str], lowered: str, pos: int, negatable: bool
) -> re.Match[str] | None:
    """The first match at or after ``pos`` that starts a word and, if ``negatable``, is
    not negated."""
    while (match := pattern.search(lowered, pos)) is not None:
        start = pos = match.start()
        pos += 1
        if start > 0 and (lowered[start - 1].isalnum() or lowered[start - 1] == "_"):
            continue  # inside a word: "unbroken", "bestow"
        if not (negatable and _negated(lowered, start)):
            return match
    return None


def _find(
    terms: tuple[_Term, ...], lowered: str, starts: dict[int, int]
) -> list[tuple[str, re.Match[str]]]:
    """Each term's label and first match, in order of appearance (ties: lexicon order).

    ``starts`` comes from ``_starts(lowered)``; an alternative missing there cannot match."""
    first: dict[int, tuple[_Term, re.Match[str]]] = {}
    for key, pos in starts.items():
        lexicon, order, term, pattern = _BY_KEY[key]
        if lexicon is not terms:
            continue
        match = _first(pattern, lowered, pos, term.negatable)
        if match is not None and (order not in first or match.start() < first[order][1].start()):
            first[order] = (term, match)
    ranked = sorted(first.items(), key=lambda item: (item[1][1].start(), item[0]))
    return [(term.label, match) for _, (term, match) in ranked]


def _labels(terms: tuple[_Term, ...], lowered: str, starts: dict[int, int]) -> list[str]:
    return [label for label, _ in _find(terms, lowered, starts)]


def _interrogative_starts(lowered: str) -> list[str]:
    found: list[str] = []
    for sentence in _SENTENCE_BREAK.split(lowered):
        opener = _OPENERS.match(sentence)
        body = sentence[opener.end() :] if opener is not None else sentence
        match = _INTERROGATIVE.match(body)
        if match is None or body.rstrip().endswith("!"):
            continue
        lead = " ".join(next(g for g in match.groups() if g is not None).split())
        if lead not in found:
            found.append(lead)
    return found


def _intent(lowered: str, starts: dict[int, int], compound: float) -> IntentResult:
    terms = _labels(_COMPLAINT, lowered, starts)
    if compound < POSITIVE_COMPOUND:
        terms += _labels(_SOFT_COMPLAINT, lowered, starts)
    complaint = [f"complaint_term:{t}" for t in terms]
    if compound <= NEGATIVE_COMPOUND:
        complaint.append(f"negative_sentiment:{compound:.2f}")
    question = ["question_mark"] if "?" in lowered else []
    question += [f"interrogative_start:{w}" for w in _interrogative_starts(lowered)]
    question += [f"question_phrase:{p}" for p in _labels(_QUESTION, lowered, starts)]
    praise = [f"praise_term:{t}" for t in _labels(_PRAISE, lowered, starts)]
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


def _opt_out(text: str) -> OptOutRequest:
    found = detect_opt_out(text)
    return OptOutRequest(
        requested=found.signal == "requested",
        signal=found.signal,
        phrase=found.phrase,
        rule=found.rule,
    )


def _parse_handle(raw: str) -> tuple[str, str | None] | None:
    match = _HANDLE.fullmatch(raw.strip().lower())
    if match is None:
        return None
    return match["user"], match["domain"]


class Classifier:
    """Classifies mention texts for one brand; build once, share freely (no mutable state).

    ``brand_handles``: the brand's accounts, e.g. ``["@acme", "acme@mastodon.example",
    "acme.bsky.social"]``. Raises ``ValueError`` for a string that is not a handle and
    ``TypeError`` when given one string instead of a sequence of them.
    """

    def __init__(self, brand_handles: Sequence[str]) -> None:
        if isinstance(brand_handles, str):
            raise TypeError("brand_handles must be a sequence of handles, not one string")
        self._qualified: dict[tuple[str, str], str] = {}
        self._bare: dict[str, str] = {}
        same_instance: dict[str, str] = {}
        for raw in brand_handles:
            parsed = _parse_handle(raw)
            if parsed is None:
                raise ValueError(f"not a handle: {raw!r} (expected @user or user@domain)")
            user, domain = parsed
            if domain is None:
                self._bare.setdefault(user, f"@{user}")
            else:
                self._qualified.setdefault((user, domain), f"@{user}@{domain}")
                same_instance.setdefault(user, f"@{user}@{domain}")
        for user, canonical in same_instance.items():
            self._bare.setdefault(user, canonical)  # an exact bare handle wins
        self._analyzer = SentimentIntensityAnalyzer()

    def classify(
        self,
        text: str,
        *,
        in_reply_to_handle: str | None = None,
        is_direct: bool = False,
        connector_addressed: bool | None = None,
    ) -> Classification:
        """Classify one mention (rules in the module docstring). Never raises for a ``str``.

        ``in_reply_to_handle``: the handle of the author of the post this one replies to.
        ``is_direct``: the mention arrived as a direct/private message to the brand.
        ``connector_addressed``: the connector's own verdict, None when it cannot tell.
        """
        prepared = _prepare(text)
        lowered = _lower(prepared)
        starts = _starts(lowered)
        scores = self._analyzer.polarity_scores(prepared)
        sentiment = Sentiment(
            compound=float(scores["compound"]),
            pos=float(scores["pos"]),
            neu=float(scores["neu"]),
            neg=float(scores["neg"]),
        )
        return Classification(
            sentiment=sentiment,
            intent=_intent(lowered, starts, sentiment.compound),
            addressed=self._addressed(prepared, in_reply_to_handle, is_direct, connector_addressed),
            opt_out=_opt_out(text),
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
                )
            )
        return results

    def _match(self, user: str, domain: str | None) -> str | None:
        if domain is None:
            return self._bare.get(user.lower())
        return self._qualified.get((user.lower(), domain.lower()))

    def _mentioned(self, text: str) -> str | None:
        for match in _MENTION.finditer(text):
            handle = self._match(match["user"], match["domain"])
            if handle is not None:
                return handle
        return None

    def _addressed(
        self,
        text: str,
        in_reply_to_handle: str | None,
        is_direct: bool,
        connector_addressed: bool | None,
    ) -> Addressed:
        parsed = _parse_handle(in_reply_to_handle) if in_reply_to_handle else None
        reply = self._match(*parsed) if parsed is not None else None
        mention = self._mentioned(text) if connector_addressed is not False else None
        handle = mention or reply
        if connector_addressed:
            return Addressed(addressed=True, via="connector", handle=handle)
        if is_direct:
            return Addressed(addressed=True, via="direct", handle=handle)
        if reply is not None:
            return Addressed(addressed=True, via="reply", handle=reply)
        if mention is not None:
            return Addressed(addressed=True, via="mention", handle=mention)
        return Addressed(addressed=False)
