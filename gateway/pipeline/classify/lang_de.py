"""German: lexicons, question grammar and sentiment words (umlauts optional: ``[äa]``)."""

from __future__ import annotations

import re

from gateway.pipeline.classify.lexicon import LexiconSet
from gateway.pipeline.classify.rules import LanguageRules

_COMPLAINT_TERMS: dict[str, str] = {
    "nicht angekommen": r"(?:immer noch|noch immer|noch|nie) nicht (?:angekommen|da|geliefert|"
    r"erstattet|behoben|repariert)|nie angekommen|nicht angekommen|keine lieferung",
    "funktioniert nicht": r"funktionier(?:t|en) (?:\w+ )?(?:nicht|nie|gar nicht)|"
    r"geht (?:nicht|nie)|l[äa]uft nicht|l[äa]dt nicht|kaputt|defekt|besch[äa]digt|"
    r"macht (?:alles )?kaputt",
    "keine antwort": r"keine (?:antwort|r[üu]ckmeldung|reaktion)|niemand (?:meldet|antwortet|"
    r"hilft|reagiert)|meldet sich (?:niemand|keiner)|antwortet (?:niemand|keiner)",
    "katastrophe": r"katastroph(?:e|al)|unm[öo]glich|frechheit|unversch[äa]mt|skandal|"
    r"schrecklich|furchtbar|mies|schlecht(?:este|ester)?|miserabel|zumutung|betrug|abzocke",
    "warte seit": r"warte (?:\w+ )?seit|seit (?:\w+ )?(?:tagen|wochen|monaten|stunden)|"
    r"seit einem (?:monat|tag)|seit einer woche",
    "doppelt abgebucht": r"zweimal (?:abgebucht|belastet|berechnet)|doppelt (?:abgebucht|"
    r"berechnet)",
    "stürzt ab": r"st[üu]rzt (?:\w+ )?ab|abst[üu]rz|verbindet sich (?:\w+ )?neu|"
    r"h[äa]ngt sich auf|friert ein|bricht ab",
    "enttäuscht": r"entt[äa]usch(?:t|ung|end)",
    "nie wieder": r"nie wieder|nicht zu empfehlen|nicht empfehlen",
    "ärgerlich": r"[äa]rgerlich|genervt|sauer|w[üu]tend|reicht mir",
    "nichts passiert": r"(?:immer noch|noch immer) nichts|nichts passiert|bringt nichts|"
    r"schon probiert|hilft nicht",
    "akku": r"h[äa]lt nur noch|nur noch (?:\w+ )?stunden",
}
_SOFT_COMPLAINT_TERMS: dict[str, str] = {
    "fehler": r"fehler|problem(?:e)?|st[öo]rung",
    "langsam": r"langsam|versp[äa]tet|zu sp[äa]t",
    "leider": r"leider|schade",
}
_TOPIC_COMPLAINT_TERMS: dict[str, str] = {
    "erstattung": r"erstattung|r[üu]ckerstattung|geld zur[üu]ck",
    "kündigen": r"k[üu]ndig(?:en|ung)|stornier(?:en|ung)",
}
_QUESTION_PHRASES: dict[str, str] = {
    "brauche hilfe": r"brauche (?:\w+ )?hilfe|hilfe (?:bei|beim|mit)|k[öo]nnt ihr (?:mir )?helfen",
    "weiß jemand": r"wei[ßs] jemand|kurze frage|frage:",
    "wie kann ich": r"wie kann ich|kann ich|gibt es",
}
_PRAISE_TERMS: dict[str, str] = {
    "danke": r"danke|vielen dank|dankesch[öo]n|herzlichen dank",
    "liebe": r"liebe|begeistert|gef[äa]llt mir",
    "super": r"super|toll(?:er|e|es)?|klasse|spitze|perfekt|hervorragend|ausgezeichnet|"
    r"gro[ßs]artig|genial|wunderbar|top|richtig gut|sehr gut|echt gut",
    "die besten": r"die besten|der beste|am besten",
    "schnell": r"schnell(?:e|en)?",
    "kompliment": r"kompliment|respekt|gl[üu]ckwunsch|weiter so",
    "keine beschwerden": r"kann mich nicht beschweren|nichts zu meckern|nicht schlecht|"
    r"l[äa]uft super|jetzt klappt|klappt (?:es )?(?:jetzt|wieder)",
}
_DECLINE: dict[str, str] = {
    "decline": r"nein,? danke|kein interesse|nicht n[öo]tig|jetzt nicht|vielleicht sp[äa]ter",
}
_CONTRAST: dict[str, str] = {"aber": r"aber|jedoch|leider|schade|trotzdem"}
_ACK: dict[str, str] = {"ack": r"ok(?:ay)?|alles klar|mach ich|gut|ja|verstanden"}

_OPENERS = re.compile(
    r"^(?:(?:@\S+|hallo|hi|hey|guten (?:tag|morgen)|moin|servus|und|aber|bitte|"
    r"kurze frage)\b[\s,:;.-]*)*"
)
_INTERROGATIVE = re.compile(
    r"^(?:(?P<wh>wie|warum|wieso|weshalb|wo|wann|was|welche[rsn]?|wer|wohin|woher)\b|"
    r"(?P<aux>(?:habt|hat|ist|sind|kann|k[öo]nnt|k[öo]nnen|gibt|gilt|liefert|bietet|macht|"
    r"antwortet|funktioniert|kommt|wird)\s(?:ihr|es|der|die|das|man|ich|jemand|bei|noch)))\b"
)
_SENTIMENT_WORDS: dict[str, float] = {
    "gut": 1.9,
    "super": 2.8,
    "toll": 2.8,
    "toller": 2.8,
    "danke": 1.9,
    "dank": 1.6,
    "liebe": 2.9,
    "perfekt": 2.8,
    "schnell": 1.2,
    "besten": 2.5,
    "beste": 2.5,
    "klasse": 2.5,
    "zufrieden": 2.2,
    "freue": 2.0,
    "kompliment": 2.2,
    "top": 2.2,
    "schlecht": -2.3,
    "katastrophe": -3.0,
    "kaputt": -2.0,
    "defekt": -1.8,
    "enttäuscht": -2.4,
    "ärgerlich": -2.0,
    "frechheit": -2.8,
    "schrecklich": -2.8,
    "nie": -0.8,
    "niemand": -1.0,
    "problem": -1.4,
    "fehler": -1.4,
    "leider": -1.2,
    "schade": -1.5,
    "langsam": -1.2,
    "beschweren": -1.2,
    "unmöglich": -2.2,
    "beschädigt": -1.8,
    "abzocke": -3.0,
    "nichts": -0.5,
}

RULES = LanguageRules(
    code="de",
    lexicons=LexiconSet(
        {
            "complaint": _COMPLAINT_TERMS,
            "soft_complaint": _SOFT_COMPLAINT_TERMS,
            "topic_complaint": _TOPIC_COMPLAINT_TERMS,
            "question": _QUESTION_PHRASES,
            "praise": _PRAISE_TERMS,
            "contrast": _CONTRAST,
            "ack": _ACK,
            "decline": _DECLINE,
        },
        negators=("nicht", "kein", "keine", "keinen", "keiner", "nie", "niemals", "ohne", "nichts"),
    ),
    openers=_OPENERS,
    interrogative=_INTERROGATIVE,
    sentiment_words=_SENTIMENT_WORDS,
    boosters=frozenset({"sehr", "total", "echt", "wirklich", "richtig", "so", "extrem"}),
)
