"""Does a mention ask the brand to stop contacting its author? Pure, no I/O.

``detect_opt_out(text)`` answers with a signal:

- ``requested``: an unmistakable request to stop contact ("quit messaging me", "don't @ me",
  "no more DMs", "unsubscribe me", "dejen de escribirme", "bitte keine Nachrichten mehr",
  "ne me contactez plus", "parem de me marcar"). Ingest registers a permanent opt-out.
- ``possible``: a wish not to be answered whose scope or addressee is unclear ("don't reply
  to this", "not now", "no thanks", "nobody asked you", "leave me alone" next to "I'm
  talking to my friend"). Nothing is registered; the default policy sends any reply to
  review (reason ``possible_opt_out``).
- ``none``: everything else, including look-alikes ("don't stop making these", "how do I
  unsubscribe from the newsletter?", "I'll stop by the store", "the app won't stop
  crashing", "dejen de subir los precios").

How (recall first; a missed request is the worse error):

1. Normalisation: NFKC, case-fold, accents stripped (``é`` → ``e``, ``ß`` → ``ss``),
   typographic apostrophes → ``'``, URLs and @-mentions removed (a lone ``@`` stays: "don't
   @ me"), ``#`` dropped (``#OptOut`` reads ``optout``), hyphens split words
   (``laissez-moi``), a letter repeated three or more times counts once (``STOPPPP``), every
   other symbol is a space. Clause punctuation (``. , ! ? ; :`` and line breaks) becomes a
   ``|`` token: the "possible" rules and the bare "stop" rule need clause edges, the
   "requested" rules read through them ("Stop. Messaging. Me."). Disguised letters are
   read as the letters they stand for: look-alikes of other scripts ("stop" written
   with a Cyrillic U+0455) as Latin, a digit inside a word ("st0p", "unsubscr1be"; not "b4" or
   "5 days") as a letter, and three or more letters typed one at a time ("s t o p") as one
   word.
2. Per-language patterns (en, es, de, fr, pt; no others: Italian and the rest are out of
   scope, a post in them gives ``none``) built from shared vocabularies: the verbs of
   contact (message, DM, tag, reply, escribir, schreiben, écrire, mandar ...), their nouns
   (messages, DMs, notifications, Nachrichten, mensagens ...), "stop" verbs (stop, quit,
   dejar de, aufhören, arrêter de, parar de), negated imperatives (don't / no me escriban /
   schreibt mir nicht mehr / ne me contactez plus / não me mandem), "no more" + noun,
   "leave me alone" forms, and unsubscribe / opt-out forms. Every pattern needs an object
   that points at the author (``me``, ``my posts``, a clitic ``-me``) or a contact noun, so
   "stop raising the prices" and "dejen de mandar paquetes rotos" are not requests.
3. Negation and mood: "stop" after a first-person or imperative negator ("I can't stop",
   "don't stop", "never stop", "no dejen de", "n'arrêtez jamais de", "não parem de") is not
   a request; after a third-person one it is a complaint about contact and counts ("your
   bot won't stop messaging me", "su bot no para de responderme"). "don't/never ... me"
   counts only in imperative position, not after a subject ("you never reply to me" is a
   complaint). Unsubscribe / opt-out words in a how-to question are not requests, and
   "no more / enough with / stop the <replies>" is not one when the post asks for a better
   answer ("enough with the canned responses, I want a real person"). A past-tense question
   about contact that stopped ("why did you stop replying to me?", "avez-vous arrêté de me
   répondre ?") asks for an answer and is not a request; formal words are ("I withdraw my
   consent", "I object to receiving messages", "add me to your do not contact list",
   "cease and desist contacting me"), and so is a polite conditional ("I'd appreciate it if
   you stopped messaging me"). "send me" names contact only when what is sent is ("stop
   sending me these promo emails"), not a thing ("stop sending me the wrong size", "hören
   Sie auf, mir die falsche Größe zu schicken").
   "no DMs (please)" is a request only as the whole first clause of a post ("no DMs yet
   about my refund?" is not).
4. A bare "stop" clause ("stop", "stop it", "make it stop", "hört auf damit") is a request
   when it is the whole message, or when the message also talks about contact (a bot,
   replies, messages).
5. A weak request ("leave me alone", "go away") next to a sign the author was talking to
   someone else ("talking to my friend", "wasn't for you", "by accident") is only
   ``possible``.

Measured on ``tests/data/opt_out_requests.jsonl`` by
``tests/unit/classify/test_opt_out_detect_eval.py`` (figures in docs/policies.md).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

import msgspec

OptOutSignal = Literal["none", "possible", "requested"]


class OptOutDetection(msgspec.Struct, frozen=True, kw_only=True):
    """The signal, the text that decided it (original spelling, whitespace collapsed; None
    for ``none``) and the rule that matched (``<lang>:<rule>``, None for ``none``)."""

    signal: OptOutSignal
    phrase: str | None = None
    rule: str | None = None


NONE = OptOutDetection(signal="none")

# --- normalisation -----------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# "@ing", "@'ed" are the verb "to @", not a mention ("quit @ing me").
_MENTION = re.compile(
    r"(?<![\w@/])@(?!'?-?(?:ing|ed|ting|d)\b)\w+(?:[.-]\w+)*(?:@[\w-]+(?:\.[\w-]+)+)?"
)
_CLAUSE_PUNCT = frozenset(".,!?;:\n()[]¡¿…")
_KEEP = frozenset("'@")
_APOSTROPHES = frozenset("\u2019\u2018\u02bc\uff07`\u00b4")
# Letters of other scripts that look like Latin ones ("stop" with a Cyrillic U+0455): read as
# the Latin letter. NFKC already folds full-width and mathematical letters.
_CONFUSABLES = dict(
    zip(
        # Cyrillic, then Greek, then two Latin letters NFKC leaves alone (script g, dotless i)
        "аеорсухѕіјһԁӏԛԝвкмтнАВЕКМНОРСТХУЅІЈ" + "αεικνορτυχΑΒΕΗΙΚΜΝΟΡΤΥΧΖ" + "\u0261\u0131",
        "aeopcyxsijhdlqwbkmthabekmhopctxysij" + "aeikvoptuxabehikmnoptyxz" + "gi",
        strict=True,
    )
)
# A digit written for a letter inside a word ("st0p", "unsubscr1be", "t4gging"); digits at
# a word's edge stay digits ("5 days", "b4", "mp3").
_LEET = re.compile(r"(?<=[^\W\d_])[013457]+(?=[^\W\d_])")
_LEET_HINT = re.compile(r"[013457]")  # a bare character class: a fast scan, no lookbehind
_LEET_TABLE = str.maketrans("013457", "oieast")
# Letters typed one at a time ("s t o p messaging me"): three or more single letters in a
# row, separated by single spaces, are one word.
_SPACED = re.compile(r"(?<![\w'@])(?:[^\W\d_] ){2,}[^\W\d_](?![\w'@])")
_SPACED_HINT = re.compile(r" [^\W\d_] [^\W\d_] ")  # on " " + flat + " "; fast scan


@lru_cache(maxsize=4096)
def _char(ch: str) -> str:
    """One character of the original text, normalised: "" to drop, " " or "|" for a break."""
    if ch in _APOSTROPHES:
        return "'"
    ch = _CONFUSABLES.get(ch, ch)
    folded = unicodedata.normalize("NFKC", ch).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    out = []
    for c in decomposed:
        if unicodedata.combining(c):
            continue
        if c.isalnum() or c in _KEEP:
            out.append(c)
        elif c in _CLAUSE_PUNCT:
            out.append("|")
        elif c == "#":
            continue
        elif unicodedata.category(c) in ("Cf", "Mn"):
            continue  # zero-width and format characters join, they do not split
        else:
            out.append(" ")
    return "".join(out)


def _masked(text: str) -> str:
    """URLs and @-mentions blanked out and digits inside words read as letters, same length,
    so offsets still index ``text``."""
    if _LEET_HINT.search(text):
        text = _LEET.sub(lambda m: m.group(0).translate(_LEET_TABLE), text)
    for pattern in (_URL, _MENTION):
        if ("@" if pattern is _MENTION else "/") in text or "www" in text.lower():
            text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


class _Table(dict[int, str]):
    """``str.translate`` table: each character's ``_char``, computed on first sight."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _char(chr(code))
        return value


_TABLE = _Table()
_BREAKS = re.compile(r"[ |]*\|[ |]*")
_SPACES = re.compile(r"  +")
_RUNS = re.compile(r"([^\W\d_])\1{2,}")


def _flat(text: str) -> str:
    """``normalize(text)[0]`` without the offsets, about ten times faster (C loops only)."""
    flat = _RUNS.sub(r"\1", _masked(text).translate(_TABLE))
    flat = _SPACES.sub(" ", _BREAKS.sub(" | ", flat)).strip(" |")
    return _SPACED.sub(_unspaced, flat) if _SPACED_HINT.search(f" {flat} ") else flat


def _unspaced(match: re.Match[str]) -> str:
    return match.group(0).replace(" ", "")


def normalize(text: str) -> tuple[str, list[int]]:
    """The normalised text (module docstring, step 1) and, per character of it, the index
    of the original character it came from. Words are single-space separated; a clause
    break is the token ``|`` with a space either side; no leading or trailing break."""
    chars: list[str] = []
    where: list[int] = []
    run = 0  # how many times the last letter occurred in a row
    for index, ch in enumerate(_masked(text)):
        for c in ch.lower() if ch.isascii() and ch.isalnum() else _char(ch):
            if c == "|":
                run = 0
                if chars and chars[-1] == " ":
                    chars.pop()
                    where.pop()
                if not chars or chars[-1] == "|":
                    continue
                chars += [" ", "|"]
                where += [index, index]
                continue
            if c == " ":
                run = 0
                if not chars or chars[-1] in " |":
                    continue
            elif chars and c == chars[-1] and c.isalpha():
                run += 1
                if run == 3:  # "stoppp": a run of three or more letters counts once
                    chars.pop()
                    where.pop()
                if run >= 3:
                    continue
            else:
                run = 1
                if chars and chars[-1] == "|":
                    chars.append(" ")
                    where.append(index)
            chars.append(c)
            where.append(index)
    while chars and chars[-1] in " |":
        chars.pop()
        where.pop()
    flat = "".join(chars)
    if not _SPACED_HINT.search(f" {flat} "):
        return flat, where
    spaced = [m.span() for m in _SPACED.finditer(flat)]
    if not spaced:
        return flat, where
    drop = {i for start, end in spaced for i in range(start, end) if flat[i] == " "}
    kept = [i for i in range(len(flat)) if i not in drop]
    return "".join(flat[i] for i in kept), [where[i] for i in kept]


# --- vocabulary and rules ---------------------------------------------------------------------
#
# Patterns run on normalised text (lower case, no accents, single spaces). ``_W`` wraps a
# pattern in word edges. Each rule names the language, the signal it gives and the checks
# that must pass around its match (see ``_Rule``).


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _any(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


# English
_EN_ING = _any(
    r"messag(?:e|)ing", r"msg'?ing", "contacting", r"d ?m'?(?:m)?ing", r"pm'?(?:m)?ing",
    "tagg?ing", "mentioning", "pinging", "spamm?ing", "texting", r"e ?mailing", "calling",
    "bothering", "harr?ass?ing", "pestering", r"@'?(?:ing)?", r"at'?ing", "hounding",
    "notifying", "writing to", "replying(?: to)?", "responding(?: to)?", "answering",
    "following up(?: with)?", "sending", r"slid(?:e|)ing into", "hitting(?: me)? up",
    "commenting(?: on)?", "targeting", "marketing to", "advertising to", "chasing",
)  # fmt: skip
_EN_BASE = _any(
    "message", "msg", "contact", "dm", "pm", "tag", "mention", "ping", "spam", "text",
    r"e ?mail", "call", "bother", "harr?ass", "pester", "@", "reply(?: to)?",
    "respond(?: to)?", "answer", "write(?: to)?", "send", "slide into", "notify",
    "comment on", "follow up(?: with)?", "hit me up", "target",
)  # fmt: skip
_EN_OBJ = (
    r"(?:me|us|my (?:\w+ )?"
    + _any(
        "posts?", "tweets?", "toots?", "dms?", "inbox", "mentions", "notifications",
        "timeline", "comments?", "replies", "threads?", "conversations?", "feed", "account",
        "stuff", "phone", "pms?", "messages", "skeets?",
    )
    + r"|everything i \w+|every (?:post|tweet|time|single))"
)  # fmt: skip
# Nouns of contact. Not "ads", "bots" or "answers": "stop the ads on the free plan",
# "stop the scalper bots", "I don't want canned answers" are about something else.
_EN_NOUN = _any(
    "messages?", "msgs?", "dms?", "pms?", "replies", "reply", "notifications?", "notifs?",
    "texts?", r"e ?mails?", "mails?", "spam", "promos?", "promotions?", "tags?",
    "mentions?", "pings?", "auto ?replies", "bot replies", "responses?", "follow ?ups?",
    "newsletters?", r"contact(?! (?:form|page|details|info|number|cent(?:er|re)|us|button|link))",
)  # fmt: skip
_EN_STOP = _any(
    "stop", "stopp", "stahp", "stawp", "quit", "cease and desist(?: from)?", "cease",
    "desist from", "refrain from", "knock off", "give up",
)  # fmt: skip
# Words that mark an imperative position before "don't/never/do not" (nothing but these
# may precede the negator in its clause for it to be an order, not a complaint).
_SUBJECTS = _set(
    "i you u they we he she it who nobody everyone people bot bots team guys yall y'all ya "
    "staff support agents someone anyone one this that which why ever"
)
_FIRST_PERSON_NEG = re.compile(
    r"(?:^|\s)(?:i|we|i'll|we'll|i'm|im|you(?:'ll)?|u)?\s?"
    r"(?:can't|cant|cannot|can not|couldn't|couldnt|don't|dont|do not|never|will never|"
    r"won't ever|shouldn't|should not|wouldn't|didn't|didnt|please don't|pls don't|"
    r"i won't|i wont|we won't)(?: ever| really| just)?\s$"
)
# "why did you stop replying to me?", "pourquoi avez-vous arrêté de me répondre ?": a
# question about contact that stopped (the customer wants an answer), not a request.
_ASKED_BEFORE = {
    "en": re.compile(r"(?:^|\s)(?:did|why'd|whyd|when'd)(?: \S+){0,2}\s$"),
    "fr": re.compile(
        r"(?:^|\s)(?:ai|as|a|avons|avez|ont)(?: t)?(?: vous| tu| ils| elles| on| il| elle)?\s$"
    ),
}
_QUESTION_BEFORE = re.compile(
    r"(?:^|\s)(?:how|where|what|when|why|can i|could i|do i|does|is there|should i|"
    r"como|donde|wie|wo|comment|ou|onde|quando|cadê|cade)\b"
)
# A message that talks about contact: a bare "stop" clause next to it is a request.
_CONTACT_TALK = re.compile(
    r"\b(?:bots?|repl(?:y|ies|ying)|respond\w*|messag\w*|msgs?|dm\w*|pm\w*|notif\w*|tag\w*|@\w*|"
    r"mention\w*|ping\w*|spam\w*|texts?|e ?mails?|contact\w*|promo\w*|"
    r"mensaj\w*|respond\w*|escrib\w*|contest\w*|etiquet\w*|notificacion\w*|"
    r"nachricht\w*|antwort\w*|schreib\w*|markier\w*|benachrichtig\w*|"
    r"repond\w*|ecri\w*|mentionn\w*|tagu\w*|"
    r"mensage\w*|respost\w*|marca\w*|notifica\w*)\b"
)
# The author asks for a (better) answer: "enough with the canned responses, I want a real
# person" complains about the replies, it does not refuse them.
_WANTS_CONTACT = re.compile(
    r"\b(?:(?:real|actual|live) (?:person|human|agent)|human|talk to (?:someone|somebody|a "
    r"person|an agent)|speak (?:to|with) (?:someone|somebody|a person|a manager|an agent)|"
    r"call me|get back to me|answer my question|actually (?:help|answer|read)|"
    r"persona (?:real|de verdad)|hablar con (?:alguien|una persona|un agente|un humano)|"
    r"(?:echten|einem) menschen|mit jemandem (?:sprechen|reden)|vraie personne|un humain|"
    r"parler a (?:quelqu'un|un conseiller)|pessoa de verdade|um humano|falar com (?:alguem|"
    r"uma pessoa|um atendente))\b"
)
# "send me" takes a second object: "stop sending me messages / these promo emails" is about
# contact, "stop sending me the wrong size / broken parcels" is a complaint about an order.
_SENDS_ME = re.compile(r"\bsend(?:ing)?(?: to)? (?:me|us)$")
_SENT_THING = re.compile(
    r" (?:(?:the|a|an|my|your|ur|these|those|this|that|another|more|any|wrong|broken|damaged|"
    r"faulty|used|old|cheap|fake|\d+) )+(?!(?:\w+ ){0,2}?" + _EN_NOUN + r"\b)\w"
)
# The same in German: "hören Sie auf, mir die falsche Größe zu schicken" names a thing sent,
# "hört auf, mir Nachrichten zu schicken" names contact.
_DE_SENT_THING = re.compile(
    r"\b(?:mir|uns) (?:\w+ )*?(?:die|der|das|den|dem|ein|eine|einen|einem|kaputte|falsche)"
    r" (?:\w+ )*?zu (?:schicken|senden|liefern|verkaufen|geben)$"
)
# Signs that the author was talking to someone else, not to the brand.
_ELSEWHERE = re.compile(
    r"\b(?:talking to (?:my|a|some|him|her|them|someone|\w+ friend)|by accident|"
    r"accidentally|wrong (?:tag|person|account|@)|(?:wasn't|was not|isn't|is not|not) "
    r"(?:for|meant for|talking to|asking) (?:you|u)|hablando con (?:mi|mis|un|una)|"
    r"rede mit (?:meinem|meiner|meinen)|parle (?:a|avec) (?:mon|ma|mes)|"
    r"falando com (?:meu|minha|meus))\b"
)

_STOP_CLAUSE_EN = (
    r"(?:(?:just|please|pls|plz|now|omg|ugh|ok|so|and|i said|seriously|for real|"
    r"i (?:already )?(?:told|asked) (?:you|u|ya) to) )*"
    r"(?:stop|stopp|make (?:it|them|this|him|her) stop|quit it|knock it off|cut it out|"
    r"enough|basta|ya basta|para|pare|paren|parem|stopp|hort auf(?: damit)?|hor auf"
    r"(?: damit)?|horen sie auf(?: damit)?|lasst das|arretez|arrete|ca suffit|chega|"
    r"para com isso|parem com isso)"
    r"(?: (?:it|that|this|now|already|please|pls|plz|omg|seriously|immediately|ya|ja|"
    r"jetzt|bitte|svp|por favor|pf|pfv|pfvr|xfa|porfa|ffs|thanks|thx|lol))*"
)

_ES_INF_ME = (
    _any(
        "escribir", "mandar", "enviar", "responder", "contestar", "contactar", "etiquetar",
        "mencionar", "molestar", "spamear", "llamar", "notificar", "seguir", "buscar",
        "joder", "acosar", "taggear",
    )
    + "me"
)  # fmt: skip
_ES_SUBJ = _any(
    "escrib(?:an|as|a)", "contact(?:en|es|e)", "mand(?:en|es|e)", "envi(?:en|es|e)",
    "respond(?:an|as|a)", "contest(?:en|es|e)", "etiquet(?:en|es|e)", "mencion(?:en|es|e)",
    "molest(?:en|es|e)", "spame(?:en|es|e)", "llam(?:en|es|e)", "notifiqu(?:en|es|e)",
    "busqu(?:en|es|e)", "acos(?:en|es|e)", "jodan", "vuelv(?:an|as|a) a (?:escribir|contactar|"
    "mandar|enviar|responder|etiquetar|mencionar|molestar|llamar)",
)  # fmt: skip
_ES_NOUN = _any(
    "mensajes?", "dms?", "mds?", "privados?", "notificaciones?", "spam", "promos?",
    "promociones?", "respuestas?", "correos?", r"e ?mails?", "mails?", "etiquetas?",
    "menciones?", "publicidad", "bots?", "anuncios?", "ofertas?",
)  # fmt: skip
_DE_CONTACT = _any(
    "schreiben", "anschreiben", "anzuschreiben", "antworten", "kontaktieren", "markieren",
    "taggen", "erwahnen", "spammen", "zuspammen", "zuzuspammen", "nerven", "belastigen",
    "anrufen", "anzurufen", "anpingen", "anzupingen", "pingen", "zu \\w+en",
    "nachrichten (?:zu )?(?:schicken|senden)",
)  # fmt: skip
_DE_VERB_IMP = _any(
    "schreibt", "schreib", "schreiben sie", "antwortet", "antworte", "antworten sie",
    "kontaktiert", "kontaktier", "kontaktieren sie", "markiert", "markier", "markieren sie",
    "taggt", "tagt", "schickt", "nervt", "belastigt", "erwahnt", "pingt", "spammt", "ruft",
)  # fmt: skip
_DE_NOUN = _any(
    "nachrichten", "nachricht", "dms?", "pns?", "antworten", "benachrichtigungen", "mails?",
    r"e ?mails?", "spam", "werbung", "markierungen", "erwahnungen", "pings?", "bots?",
    "botantworten", "newsletter", "anrufe", "sms", "direktnachrichten",
)  # fmt: skip
_FR_INF = _any(
    "ecrire", "repondre", "contacter", "spammer", "taguer", "tagger", "mentionner", "envoyer",
    "harceler", "relancer", "deranger", "appeler", "notifier", "solliciter", "identifier",
    "texter", "mailer", "embeter", "emmerder", "saouler", "soler", "suivre", "ecrire en mp",
)  # fmt: skip
_FR_IMP = _any(
    "contactez", "contacte", "contactes", "ecrivez", "ecris", "repondez", "reponds",
    "envoyez", "envoie", "taguez", "tague", "mentionnez", "mentionne", "spammez", "appelez",
    "relancez", "sollicitez", "harcelez", "derangez", "identifiez", "embetez", "emmerdez",
)  # fmt: skip
_FR_NOUN = _any(
    "messages?", "dms?", "mps?", "notifs?", "notifications?", "mails?", r"e ?mails?", "spam",
    "pubs?", "publicites?", "promos?", "relances?", "reponses?", "tags?", "mentions?", "sms",
    "bots?", "newsletters?", "sollicitations?",
)  # fmt: skip
_PT_CONTACT = _any(
    "mandar", "enviar", "responder", "escrever", "marcar", "mencionar", "contatar",
    "contactar", "encher", "incomodar", "perturbar", "spammar", "spamar", "ligar", "chamar",
    "notificar", "seguir", "taguear", "importunar", "encher o saco",
)  # fmt: skip
_PT_SUBJ = _any(
    "mand(?:em|e)", "envi(?:em|e)", "respond(?:am|a)", "contat(?:em|e)", "contact(?:em|e)",
    "marqu(?:em|e)", "escrev(?:am|a)", "ligu(?:em|e)", "perturb(?:em|e)", "incomod(?:em|e)",
    "mencion(?:em|e)", "notifiqu(?:em|e)", "cham(?:em|e)", "encham", "importun(?:em|e)",
)  # fmt: skip
_PT_NOUN = _any(
    "mensagens?", "msgs?", "dms?", "notificacoes", "notificacao", "spam", "promocoes",
    "promocao", "promos?", "respostas?", r"e ?mails?", "marcacoes", "mencoes", "propagandas?",
    "bots?", "anuncios?", "ofertas?",
)  # fmt: skip

_TAIL = (
    r"(?: (?:pls|please|plz|thanks|thx|ty|mate|lol|bro|ok|por favor|porfa|gracias|bitte|danke|"
    r"svp|merci|ca ira|obrigad[oa]|valeu|pf))*"
)
"""Words a short refusal may end with ("not now pls", "non merci ça ira")."""

_TAIL_EN = r"(?: (?:pls|please|plz|thanks|thx|ty|thank you|at all|ever|again|lol|ok|okay))*"
"""Words "no DMs" may end with and still be only that."""

_SHORT = 8
"""A "possible" phrase that only counts as the whole point of a short post ("not now")."""

# (lang, name, signal, checks, pattern). Checks:
#   neg: not after a first-person or imperative negator ("I can't stop", "don't stop")
#   imperative: the clause has no subject before the match ("you never reply to me" is not
#       an order)
#   question: not inside a how-to question ("how do I unsubscribe ...?")
#   weak: "possible" instead when the author says they talk to someone else
#   short: only in a post of at most _SHORT words
#   answer: not when the author asks for a better answer ("I want a real person")
#   start: only at the start of the post (tried once there, not at every position)
_RULES: list[tuple[str, str, OptOutSignal, str, str]] = [
    # --- English, requested
    ("en", "stop_contact", "requested", "neg",
     rf"{_EN_STOP} (?:\w+ )?{_EN_ING}(?: (?:to|at|into|with|on))? {_EN_OBJ}"),
    ("en", "stop_contact", "requested", "neg",
     rf"{_EN_STOP} {_EN_ING}(?= \||$| (?:please|pls|plz|now|already|omg|thanks|thx|lol|ffs|"
     r"seriously|immediately|ok|okay|asap|k)\b)"),
    ("en", "stop_noun", "requested", "neg answer",
     rf"{_EN_STOP} (?:(?:the|your|ur|these|those|all|all the|all these|all your|sending|"
     rf"sending me|with the|with your|with these) )?(?:\w+ )?{_EN_NOUN}"),
    ("en", "enough_noun", "requested", "answer",
     r"enough (?:with|of) (?:the |your |ur |these |those |all the |all these )?"
     rf"(?:\w+ )?{_EN_NOUN}"),
    ("en", "no_more", "requested", "answer",
     rf"no (?:more|further) (?:\w+ )?{_EN_NOUN}|no (?:more )?(?:bots?|bot replies|automated "
     r"replies|auto ?replies)(?! (?:policy|rule|rules|allowed|here|in|on)\b)"),
    # "no DMs (please)": the whole first clause of the post. Not replies, answers or e-mails,
    # which a waiting customer misses ("3 days, no reply"), nor with more words after the
    # noun ("no DMs yet about my refund?", "no DMs back").
    ("en", "no_noun", "requested", "answer start",
     r"(?:(?:please|pls|plz|and) )?(?:no|zero) (?:(?:more|further|bot|promo|marketing|spam) )?"
     r"(?:dms|pms|messages|msgs|notifications|notifs|texts|tags|mentions|pings|promos|"
     rf"promotions|newsletters|spam|bots){_TAIL_EN}(?= \||$)"),
    # A polite conditional: "I'd appreciate it if you stopped messaging me", "it would be
    # great if you didn't DM me again". The object must still be the author.
    ("en", "polite", "requested", "",
     r"(?:appreciate(?: it)?|prefer(?: it)?|rather|grateful|thankful|great|nice|good|better|"
     r"love it|like it) if (?:you|u|y'all|yall|ya|your \w+)(?: (?:would|could|'d|just|please|"
     rf"kindly|all))* (?:(?:stopped|stop|quit|ceased) (?:\w+ )?{_EN_ING}(?: (?:to|at|into|with|"
     rf"on))? {_EN_OBJ}|(?:didn't|didnt|did not|wouldn't|wouldnt|would not|never|don't|dont|"
     rf"no longer) (?:ever |again |even )?{_EN_BASE}(?: (?:to|at|into|with|on))? {_EN_OBJ}|"
     r"(?:left|leave) (?:me|us) alone)"),
    ("en", "dont_contact", "requested", "imperative",
     r"(?:don't|dont|do not|never|never ever|can you not|can u not|could you not|could u not|"
     rf"would you not|stop trying to) (?:ever |even |again |evr )?{_EN_BASE}"
     rf"(?: (?:to|at|into|with|on))? {_EN_OBJ}"),
    ("en", "or_else", "requested", "",
     rf"(?:if (?:you|u|y'all|yall|your bot) (?:ever )?|one more )(?:\w+ )?{_EN_BASE}"
     rf"(?: (?:to|at))? {_EN_OBJ} (?:again|one more time|ever again)|{_EN_BASE}(?: (?:to|at))? "
     rf"{_EN_OBJ} (?:again|one more time) and (?:i'll|i will|ill|i'm|im|i am|you'll|ur)"),
    ("en", "butt_in", "requested", "imperative",
     r"(?:don't|dont|do not|stop|quit|never) (?:jump|jumping|butt|butting|barge|barging|chime|"
     r"chiming|crash|crashing)(?: in| into| in to)? (?:my|our) \w+"),
    ("en", "dont_want", "requested", "answer",
     r"(?:don't|dont|do not|never|no longer|don't ever|dont ever|do not ever) (?:want|wanna|"
     r"wish|need|care) (?:to (?:ever )?(?:hear|be hearing) from (?:you|u|ya|y'all|yall|this|"
     r"your|them|any of you|\w+ again)|to be (?:contacted|messaged|msged|tagged|mentioned|"
     r"dm'?e?d|pinged|texted|e ?mailed|called|replied to|bothered|spammed|targeted|notified|"
     rf"bugged)|to (?:get|receive|see|read) (?:any )?(?:more |further )?(?:\w+ )?{_EN_NOUN}|"
     rf"(?:your|ur|any|more|these|those|the|any more|anymore|further) (?:\w+ )?{_EN_NOUN})"),
    ("en", "dont_want", "requested", "answer",
     rf"(?:want|wanna|would like|'d like|need) out of (?:your|ur|these|the|this|all|all your) "
     rf"(?:\w+ )?{_EN_NOUN}"),
    ("en", "leave_me_alone", "requested", "weak",
     r"leave (?:me|us) (?:the hell |tf |the fuck )?(?:alone|be)|get off my (?:back|case|dms|"
     r"mentions|timeline)|(?:stay|keep|get) out of my (?:dms|mentions|replies|inbox|"
     r"notifications|timeline|conversations?|threads?|business)"),
    ("en", "unsubscribe", "requested", "question",
     r"please unsubscribe|(?:unsubscribe|unsub) (?:me|us)|(?:opt|take|sign) (?:me|us) out|"
     r"(?:take|remove|delete|drop|strike|scratch|get|cross) (?:me|us) (?:off|from|out of) (?:your|"
     r"ur|the|this|that|all|whatever|any|these|every) (?:\w+ ){0,2}?lists?|(?:(?:i|we|i'd|we'd) )?"
     r"(?:want|wanna|would like|'d like|wish|need|going|have) to (?:unsubscribe|unsub|opt ?out)"
     r"(?! of (?:the |your )?(?:data|tracking|cookies|analytics|sharing|newsletter|emails?|"
     r"beta|program))|"
     r"(?:i|we) (?:hereby )?opt ?out|optout"),
    # Formal words of a customer who knows their rights: consent withdrawn, an objection to
    # contact, a do-not-contact list ("I object to the new pricing" names no contact).
    ("en", "consent", "requested", "question",
     r"(?:withdraw|withdrawing|revoke|revoking|retract|retracting) (?:my|all my|any|our) "
     r"consent|(?:do not|don't|dont|never) consent to (?:being |be |any |receiving )?"
     rf"(?:\w+ )?(?:contacted|messaged|tagged|marketed|marketing|{_EN_NOUN})|"
     r"(?:i|we) (?:hereby |formally |strongly )?object to (?:being (?:contacted|messaged|"
     r"tagged|marketed to)|(?:receiving|getting|any|all|further|your|these|the) (?:\w+ )?"
     rf"(?:{_EN_NOUN}|contact|marketing)|(?:direct )?marketing)|(?:add|put|place) (?:me|us) "
     r"(?:on|to|in) (?:your|ur|the) (?:do not contact|dnc|no contact|suppression) list"),
    # --- English, possible
    ("en", "dont_reply_here", "possible", "imperative",
     r"(?:don't|dont|do not|pls don't|please don't|no need to|(?:you )?(?:don't|dont|do not) "
     r"(?:have|need) to|u (?:don't|dont) (?:have|need) to) (?:reply|respond|answer|comment)"
     r"(?:ing)?(?: (?:to )?(?:this|that|it|here|these|my post|this one|this post|this tweet|"
     r"me here))?(?: (?:one|post|tweet|thread))?(?= \||$| (?:please|pls|plz|thanks|thx|lol|i'm|"
     r"im|i am|this|it's|its|ok|mate|bro|guys|i was|we're|just)\b)"),
    ("en", "no_reply_needed", "possible", "",
     r"no (?:reply|response|answer)s? (?:needed|necessary|required)"),
    ("en", "not_for_you", "possible", "",
     r"(?:not|wasn't|was not|isn't|is not|weren't|n't) (?:talking|speaking|asking|replying|"
     r"tweeting|referring|tagging) (?:to )?(?:you|u|y'all|yall)|(?:nobody|no one|noone) "
     r"(?:asked|was asking|"
     r"is talking to|was talking to)(?: you| u)?|(?:this|that|it|post|tweet) "
     r"(?:wasn't|was not|isn't|is not|was never|is never|not) (?:for|to|meant for|directed at|"
     r"aimed at|about) (?:you|u)|(?:is|was|it's) between me and|(?:^|\| )(?:just |please |pls "
     r"|now |so )?go away|(?:^|\| )sh(?:h|ush)+(?= \||$)|(?:^|\| )hush(?= \||$)|(?:don't|dont|"
     r"do not) need (?:your|ur|any) help"),
    ("en", "not_now", "possible", "short",
     rf"(?:^|\| )(?:(?:ok|okay|nah|um+|uh+|thanks but|thx but) )?(?:not now|not the time|not "
     rf"today|no thanks?|no thank you|nah thanks|not interested|no ty|no thx|i'm good|im good)"
     rf"{_TAIL}(?= \||$)"),
    # --- Spanish
    ("es", "stop_contact", "requested", "",
     r"(?:deja|dejad|para|parad|terminen|acaben|(?<!no\s)(?:dejen|deje|dejes|paren|pare|pares)|(?<!puedo\s)"
     rf"(?<!podemos\s)dejar|(?<!puedo\s)parar) d(?:e)? (?:\w+ )?{_ES_INF_ME}"),
    ("es", "no_me", "requested", "imperative",
     rf"(?:no|nunca|nunca mas|jamas) me (?:\w+ )?{_ES_SUBJ}"),
    ("es", "no_more", "requested", "answer",
     rf"(?:no mas|basta de|basta ya de|basta con|nada de|cero|ya no (?:quiero|mas)) "
     rf"(?:\w+ )?{_ES_NOUN}"),
    ("es", "no_quiero", "requested", "",
     r"no (?:quiero|queremos|deseo) (?:(?:recibir|ver|tener|leer) (?:\w+ ){0,2}?"
     rf"{_ES_NOUN}|saber (?:nada|mas)|que me (?:\w+ )?{_ES_SUBJ}|ser (?:contactad[oa]|"
     r"molestad[oa]|etiquetad[oa]|mencionad[oa]))"),
    ("es", "leave_me_alone", "requested", "weak",
     r"(?:dejame|dejenme|dejeme|dejadme|deja(?:me|nme)?) (?:en paz|tranquil[oa])"),
    ("es", "unsubscribe", "requested", "question",
     r"(?:darme|denme|dame|deme) de baja|(?:saquenme|sacame|sacadme|saqueme|borrenme|borrame|"
     r"quitenme|quitame|eliminenme|eliminame) de (?:su|sus|la|las|esta|esa|tu|vuestra) "
     r"(?:\w+ )?listas?|(?:quiero|quisiera) (?:salir|salirme) de (?:su|la|sus) (?:\w+ )?listas?"),
    ("es", "dont_reply_here", "possible", "imperative",
     r"no (?:respondas|responda|respondan|contestes|conteste|contesten) (?:a )?(?:esto|eso|"
     r"este|aqui)"),
    ("es", "not_for_you", "possible", "",
     r"no hace falta (?:que )?(?:respond|contest)\w*|no (?:es necesario|necesito) (?:que )?"
     r"(?:respond\w*|respuesta)|nadie (?:te|les|os) (?:pregunto|pidio|llamo)|no es (?:contigo|"
     r"con ustedes|con vos|para ti|para vos|para ustedes)|no (?:te hablo|les hablo|hablo|"
     r"estoy hablando) (?:a ti|con(?:tigo| ustedes| vos))"),
    ("es", "not_now", "possible", "short",
     r"(?:^|\| )(?:ahora no|no gracias|no me interesa|no por ahora|ahorita no)"
     + _TAIL
     + r"(?= \||$)"),
    # --- German
    ("de", "stop_contact", "requested", "",
     r"(?:hor|hort|horen|hoer|hoert|hoeren|hore)(?: sie| ihr)?(?: bitte| endlich| jetzt| doch|"
     r" mal)* auf"
     rf"(?: damit)?(?: bitte| endlich)* (?:mir|mich|uns)(?: \w+){{0,3}}? {_DE_CONTACT}"),
    ("de", "nicht_mehr", "requested", "imperative",
     rf"{_DE_VERB_IMP} (?:mir|mich|uns)(?: bitte| doch| einfach| ab jetzt| ab sofort| ja)* "
     r"(?:nicht mehr|nie wieder|nie mehr|nicht wieder|keine \w+ mehr)"),
    ("de", "nicht_mehr", "requested", "imperative",
     r"(?:bitte )?(?:nicht mehr|nie wieder|nie mehr) (?:markieren|anschreiben|kontaktieren|"
     r"taggen|erwahnen|anpingen|zuspammen|schreiben|antworten|nerven|belastigen)"),
    ("de", "keine_mehr", "requested", "answer",
     rf"keine (?:\w+ )?{_DE_NOUN} (?:\w+ )?mehr|keine (?:weiteren|weitere) {_DE_NOUN}|"
     rf"schluss mit (?:\w+ ){{0,2}}?{_DE_NOUN}|(?:lasst|lass|lassen sie) (?:das|es) mit "
     rf"(?:den|der|dem|eurer|euren|ihren|ihrer) (?:\w+ )?{_DE_NOUN}|"
     rf"(?:stoppt|stopp|stop) (?:eure|die|diese|ihre) (?:\w+ )?{_DE_NOUN}"),
    ("de", "nichts_mehr", "requested", "",
     r"(?:will|mochte|moechte|wollen) (?:nichts|nie wieder etwas|nix) (?:mehr )?von (?:euch|"
     r"ihnen|dir|dem bot|eurem bot) (?:horen|lesen|wissen|bekommen)|(?:nicht mehr|nie wieder) "
     r"(?:kontaktiert|angeschrieben|markiert|angesprochen|angepingt|erwahnt|belastigt|genervt)"
     r"(?: werden)?"),
    ("de", "leave_me_alone", "requested", "weak",
     r"(?:lasst|lass|lassen sie|last) mich (?:bitte |endlich |einfach |doch )*"
     r"(?:in ruhe|zufrieden)"),
    ("de", "unsubscribe", "requested", "question",
     r"(?:meldet|meld|melden sie|tragt|tragen sie) mich (?:\w+ ){0,3}?(?:ab|aus)\b|"
     r"(?:nehmt|nimm|nehmen sie|streicht|loscht|entfernt) mich (?:\w+ ){0,2}?(?:aus|von) "
     r"(?:eurer|ihrer|der|dem|eurem|dieser|allen) (?:\w+ )?(?:liste|verteiler|newsletter)|"
     r"(?:will|mochte|moechte) mich abmelden|abmelden bitte|bitte abmelden"),
    ("de", "dont_reply_here", "possible", "imperative",
     r"(?:antwortet|antworte|antworten sie) (?:bitte )?(?:nicht darauf|darauf nicht|hierauf "
     r"nicht|nicht hierauf|nicht)(?= \||$| ich| bitte| danke| das)"),
    ("de", "not_for_you", "possible", "",
     r"keine antwort (?:notig|noetig|erforderlich|notwendig)|(?:musst|musst du|muss|musst "
     r"ihr|musst ihr) (?:nicht|nichts) (?:antworten|drauf antworten)|hat (?:dich|euch|sie) "
     r"(?:keiner|niemand) gefragt|(?:keiner|niemand) hat (?:dich|euch) gefragt|(?:war|ist) "
     r"nicht (?:an|fur) (?:euch|dich|sie)|rede nicht mit (?:euch|dir)"),
    ("de", "not_now", "possible", "short",
     r"(?:^|\| )(?:jetzt nicht|nein danke|nein \| danke|kein interesse|nicht jetzt)"
     + _TAIL
     + r"(?= \||$)"),
    # --- French
    ("fr", "stop_contact", "requested", "",
     r"(?:arrete|arretez|arreter|arretes|cesse|cessez|cesser|stop|stoppez|stoppe)(?: donc| svp"
     rf"| stp)? (?:de |d')(?:me |m'|nous )(?:\w+ )?{_FR_INF}"),
    ("fr", "stop_contact", "requested", "",
     r"(?:bot|il|elle|vous|ca|on|compte|appli|marque|tu) (?:ne |n')?(?:arrete|arretez|arretent|"
     rf"cesse|cessez|cessent) (?:pas|jamais) (?:de |d')(?:me |m')(?:\w+ )?{_FR_INF}"),
    ("fr", "ne_plus", "requested", "imperative",
     rf"(?:ne |n')(?:me |m')(?:\w+ )?{_FR_IMP} (?:plus|jamais|plus jamais)\b|(?:ne |n')(?:me "
     r"|m')(?:contactez|spammez|taguez|harcelez|relancez|sollicitez|identifiez) pas|ne (?:plus"
     rf"|jamais|plus jamais) (?:me |m')(?:\w+ )?{_FR_INF}"),
    ("fr", "plus_de", "requested", "answer",
     r"(?:^|\| |svp |merci )(?:plus de|plus jamais de|fini les|assez de|stop aux|stop a vos|"
     r"stop au|stop a|stop les|arretez les|arretez vos|arrete les|arrete tes|basta les) "
     rf"(?:\w+ )?{_FR_NOUN}"),
    ("fr", "ne_veux_plus", "requested", "",
     r"(?:ne |n')?(?:veux|voulons|souhaite|souhaitons) plus (?:recevoir|entendre|etre "
     r"(?:contacte|sollicite|tague|mentionne|relance)e?|avoir de vos|lire)"),
    ("fr", "leave_me_alone", "requested", "weak",
     r"(?:laissez|laisse|lachez|lache)(?: moi| nous) (?:tranquilles?|en paix)|(?:fichez|fiche|"
     r"foutez|fous) (?:moi|nous) la paix|(?:lachez|lache) moi(?: la grappe)?"),
    ("fr", "unsubscribe", "requested", "question",
     r"(?:desabonnez|desabonne|desinscrivez|desinscris) (?:moi|nous)|(?:veux|voudrais|souhaite|"
     r"aimerais) (?:me |m')(?:desabonner|desinscrire|retirer)|(?:retirez|enlevez|supprimez|"
     r"sortez|rayez) (?:moi|nous) (?:de|des) (?:votre|vos|la|cette|ta|tes) (?:\w+ )?listes?"),
    ("fr", "dont_reply_here", "possible", "imperative",
     r"(?:ne |n')?(?:reponds|repondez|repond) pas (?:a )?(?:ca|ceci|cela|ce (?:message|post|"
     r"tweet))"),
    ("fr", "not_for_you", "possible", "",
     r"pas (?:besoin|la peine) de (?:me )?(?:repondre|reponse)|(?:on|personne) (?:ne )?(?:t'a|"
     r"vous a|t a) (?:rien )?demande|(?:c'etait|c'est|etait|est) (?:pas|pas du tout) pour "
     r"(?:vous|toi)|(?:ne )?(?:parle|parlais) pas (?:a|avec) (?:vous|toi)"),
    ("fr", "not_now", "possible", "short",
     r"(?:^|\| )(?:pas maintenant|non merci|pas interesse|pas interessee|ca ira|sans facon)"
     + _TAIL
     + r"(?= \||$)"),
    # --- Portuguese
    ("pt", "stop_contact", "requested", "",
     r"(?:(?<!nao\s)(?:parem|pare)|para|parar|deixem|deixe|deixa|chega de) de? ?(?:me (?:\w+ )?"
     rf"{_PT_CONTACT}|{_PT_CONTACT} me)"),
    ("pt", "nao_me", "requested", "imperative",
     rf"(?:nao|nunca mais|nunca) me (?:\w+ )?{_PT_SUBJ}"),
    ("pt", "chega", "requested", "answer",
     r"(?:chega de|chega dessas?|chega desses?|basta de|nada de|sem mais|para com (?:as|os|essas?"
     rf"|esses?)|parem com (?:as|os|essas?|esses?)) (?:\w+ )?{_PT_NOUN}|(?:cancelem|cancele|parem"
     rf"|pare) (?:o envio de|de enviar) (?:\w+ )?{_PT_NOUN}"),
    ("pt", "nao_quero", "requested", "",
     r"(?:nao|n) (?:quero|queremos|desejo) mais (?:receber|saber|ser (?:contatad[oa]|marcad[oa]"
     r"|incomodad[oa])|nada|ouvir falar)|nao quero (?:receber|ser contatad[oa])"),
    ("pt", "leave_me_alone", "requested", "weak",
     r"(?:me deixem|me deixa|me deixe|deixem me|deixe me|deixa me|deixa eu|deixem eu|me larga|"
     r"me larguem) (?:\w+ )?(?:em paz|quiet[oa])"),
    ("pt", "unsubscribe", "requested", "question",
     r"(?:quero|queria|gostaria de) (?:me )?(?:descadastrar|sair da lista|ser removid[oa])|"
     r"(?:me )?(?:descadastrem|descadastre)|(?:me tirem|me tire|me removam|me remova|me excluam"
     r"|tirem me|removam me) d(?:a|e|as|os|essa|esta|esse|este) (?:\w+ ){0,2}?lista"),
    ("pt", "dont_reply_here", "possible", "imperative",
     r"(?:nao|n) (?:responde|responda|respondam|responder) (?:a )?(?:isso|isto|esse|essa|aqui)"),
    ("pt", "not_for_you", "possible", "",
     r"nao (?:precisa|precisam|e preciso) (?:de )?(?:responder|resposta)|ninguem (?:te |vos |"
     r"lhe |lhes )?perguntou|nao e (?:com|pra|para) (?:voces|voce|vc|vcs|ti)"),
    ("pt", "not_now", "possible", "short",
     r"(?:^|\| )(?:agora nao|nao obrigad[oa]|nao \| obrigad[oa]|nao obg|sem interesse|nao "
     r"tenho interesse)" + _TAIL + r"(?= \||$)"),
]  # fmt: skip

# Substrings of the normalised text (with a space added at either end) at least one of which
# every match of a rule contains:
# a rule whose cues are all absent is not run (Python's ``re`` tries every alternative at
# every position; most posts have the cues of a few rules at most).
_CUES: dict[str, tuple[str, ...]] = {
    name: tuple(cues.split(","))
    for name, cues in {
        "en:stop_contact": "stop,stahp,stawp,quit,cease,desist,refrain,knock,give",
        "en:stop_noun": "stop,stahp,stawp,quit,cease,desist,refrain,knock,give",
        "en:enough_noun": "enough",
        "en:no_noun": "no ,zero ",
        "en:polite": " if ",
        "en:no_more": "no more,no further,no bot,no auto",
        "en:dont_contact": "don't,dont,do not,never,you not,u not,stop trying",
        "en:or_else": "again,one more",
        "en:butt_in": "jump,butt,barg,chim,crash",
        "en:dont_want": "want,wish,need,care,like",
        "en:leave_me_alone": "leave,get off,out of my",
        "en:unsubscribe": "unsub,opt,list, out",
        "en:consent": "consent,object,list",
        "en:dont_reply_here": "repl,respond,answer,comment",
        "en:no_reply_needed": "needed,necessary,required",
        "en:not_for_you": "you, u ,asked,between me,away,shh,shush,hush",
        "en:not_now": "not ,no ,nah,good",
        "es:stop_contact": "rme",
        "es:no_me": "no me,nunca me,mas me,jamas me",
        "es:no_more": "no mas,basta,nada de,cero,ya no",
        "es:no_quiero": "no quiero,no queremos,no deseo",
        "es:leave_me_alone": "paz,tranquil",
        "es:unsubscribe": "baja,lista",
        "es:dont_reply_here": "no respond,no contest",
        "es:not_for_you": "falta,necesari,necesito,nadie,no es,hablo,hablando",
        "es:not_now": "ahora,gracias,interesa",
        "de:stop_contact": "auf",
        "de:nicht_mehr": "mehr,wieder",
        "de:keine_mehr": "keine,schluss,lass,stop",
        "de:nichts_mehr": "mehr,wieder",
        "de:leave_me_alone": "ruhe,zufrieden",
        "de:unsubscribe": "mich,abmelden",
        "de:dont_reply_here": "antwort",
        "de:not_for_you": "antwort,gefragt,nicht an,nicht fur,rede nicht",
        "de:not_now": "nicht,nein,interesse",
        "fr:stop_contact": "arret,cess,stop",
        "fr:ne_plus": " ne , n'",
        "fr:plus_de": "plus de,plus jamais,fini les,assez de,stop a,stop les,arret,basta",
        "fr:ne_veux_plus": "plus",
        "fr:leave_me_alone": "tranquille,paix,lache",
        "fr:unsubscribe": "desabonn,desinscri,liste",
        "fr:dont_reply_here": "repond",
        "fr:not_for_you": "besoin,peine,demande,pour vous,pour toi,parle",
        "fr:not_now": "maintenant,merci,interesse,ca ira,facon",
        "pt:stop_contact": "par,deix,chega",
        "pt:nao_me": "nao me,nunca me,mais me",
        "pt:chega": "chega,basta,nada de,sem mais,para com,parem com,envio,de enviar",
        "pt:nao_quero": "quero,queremos,desejo",
        "pt:leave_me_alone": "paz,quiet",
        "pt:unsubscribe": "descadastr,lista,removid",
        "pt:dont_reply_here": "respond",
        "pt:not_for_you": "precis,ninguem,nao e",
        "pt:not_now": "nao,agora,interesse",
    }.items()
}

_DE_NOUN_RE = re.compile(rf"\b{_DE_NOUN}\b")

_SEP = r"(?: \|)? "
"""Between two words of a pattern: a space, or a clause break ("Stop. Messaging. Me.")."""


class _Rule(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # "<lang>:<rule>"
    signal: OptOutSignal
    checks: frozenset[str]
    cues: tuple[str, ...]
    pattern: re.Pattern[str]


def _compile(source: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'@])(?:" + source.replace(" ", _SEP) + r")(?![\w'])")


_COMPILED = tuple(
    _Rule(
        name=f"{lang}:{name}",
        signal=signal,
        checks=frozenset(checks.split()),
        cues=_CUES[f"{lang}:{name}"],
        pattern=_compile(source),
    )
    for lang, name, signal, checks, source in _RULES
)
_RULES_BY_CUE: dict[str, list[int]] = {}
for _index, _rule in enumerate(_COMPILED):
    for _cue in _rule.cues:
        _RULES_BY_CUE.setdefault(_cue, []).append(_index)
_ALL_CUES = tuple(_RULES_BY_CUE)
del _index, _rule, _cue
_STOP_CLAUSE = re.compile(_STOP_CLAUSE_EN)
_KEYWORDS = _set(
    "stop stopp stopall unsubscribe unsub optout abmelden desabonner desinscrire baja "
    "descadastrar arret"
)
_FILLER = _set(
    "please pls plz now all just it me opt out por favor bitte svp stp pf pfv xfa thanks "
    "thx ok okay"
)
_SKIP_BEFORE = _set(
    "please pls plz just so and ok okay now also seriously hey yo lol ugh omg k but then "
    "again por favor bitte svp stp pf pfv porfa xfa y und et e mais pero aber"
)
_SUBJECTS_BY_LANG = {
    "en": _SUBJECTS,
    "es": _set("nadie ellos ella el usted ustedes tu porque que quien"),
    "de": _set("ihr sie er es man keiner niemand warum wieso weshalb du"),
    "fr": _set("vous il elle ils elles on personne pourquoi tu"),
    "pt": _set("voces vcs voce vc ele ela eles elas ninguem porque tu"),
}


def _clause_before(flat: str, start: int) -> str:
    bar = flat.rfind("|", 0, start)
    return flat[bar + 1 : start]


def _passes(rule: _Rule, flat: str, match: re.Match[str]) -> bool:
    before = _clause_before(flat, match.start())
    asked = _ASKED_BEFORE.get(rule.name.split(":")[0])
    if rule.name.endswith(("stop_contact", "stop_noun")) and asked and asked.search(" " + before):
        return False
    if "neg" in rule.checks and _FIRST_PERSON_NEG.search(" " + before):
        return False
    if _SENDS_ME.search(match.group(0)) and _SENT_THING.match(flat, match.end()):
        return False
    if (
        rule.name == "de:stop_contact"
        and _DE_SENT_THING.search(match.group(0))
        and not _DE_NOUN_RE.search(match.group(0))
    ):
        return False
    if "imperative" in rule.checks:
        words = [w for w in before.split() if w not in _SKIP_BEFORE]
        if words and words[-1] in _SUBJECTS_BY_LANG[rule.name.split(":")[0]]:
            return False
    if "answer" in rule.checks and _WANTS_CONTACT.search(flat):
        return False
    return not ("question" in rule.checks and _QUESTION_BEFORE.search(before))


def _phrase(text: str, where: list[int], start: int, end: int) -> str:
    first = where[start]
    if first > 0 and text[first - 1] in "#\uff03":
        first -= 1  # "#optout" reads as "optout"; show the hashtag as written
    phrase = " ".join(text[first : where[end - 1] + 1].split())
    return "".join("'" if ch in _APOSTROPHES else ch for ch in phrase)


def detect_opt_out(text: str) -> OptOutDetection:
    """The opt-out signal in ``text`` (rules in the module docstring). Never raises."""
    if _find(_flat(text)) is None:  # the common case, without the offsets
        return NONE
    flat, where = normalize(text)
    found = _find(flat)
    if found is None:
        return NONE
    signal, start, end, rule = found
    if rule == "any:whole_message":
        phrase = " ".join(_MENTION.sub(" ", text).split())
    else:
        phrase = _phrase(text, where, start, end)
    return OptOutDetection(signal=signal, phrase=phrase, rule=rule)


def _find(flat: str) -> tuple[OptOutSignal, int, int, str] | None:
    """The strongest signal in normalised text, the span of its earliest match and the rule."""
    if not flat:
        return None
    best: dict[OptOutSignal, tuple[int, int, str]] = {}
    words = len(flat.split()) - flat.count("|")
    padded = f" {flat} "  # so a cue can require a word edge: " ne "
    present = [cue for cue in _ALL_CUES if cue in padded]  # one C-level scan per cue
    active = {index for cue in present for index in _RULES_BY_CUE[cue]}
    for index in sorted(active):
        rule = _COMPILED[index]
        if "short" in rule.checks and words > _SHORT:
            continue
        found_at = (
            [m for m in (rule.pattern.match(flat),) if m]
            if "start" in rule.checks
            else rule.pattern.finditer(flat)
        )
        for match in found_at:
            if not _passes(rule, flat, match):
                continue
            signal = rule.signal
            if "weak" in rule.checks and _ELSEWHERE.search(flat):
                signal = "possible"
            found = best.get(signal)
            if found is None or match.start() < found[0]:
                best[signal] = (match.start(), match.end(), rule.name)
            break
    if "requested" not in best:
        if _whole_message(flat):
            return "requested", 0, len(flat), "any:whole_message"
        stop = _stop_clause(flat)
        if stop is not None:
            return "requested", stop[0], stop[1], "any:stop"
    for signal in ("requested", "possible"):
        if signal in best:
            start, end, name = best[signal]
            return signal, start, end, name
    return None


def _whole_message(flat: str) -> bool:
    """The post says nothing but "stop" / "unsubscribe" / "opt out" (and fillers)."""
    words = set(flat.replace("|", " ").split())
    return words <= _KEYWORDS | _FILLER and bool(words & _KEYWORDS or {"opt", "out"} <= words)


def _stop_clause(flat: str) -> tuple[int, int] | None:
    """A clause that is only "stop" ("stop it", "make it stop", "hört auf damit"), in a post
    that is only that or also talks about contact. Returns the clause's span in ``flat``."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for clause in flat.split(" | "):
        spans.append((pos, pos + len(clause)))
        pos += len(clause) + 3
    stops = [(a, b) for a, b in spans if _STOP_CLAUSE.fullmatch(flat[a:b])]
    if not stops:
        return None
    if len(stops) == len(spans) or _CONTACT_TALK.search(flat):
        return stops[0]
    return None
