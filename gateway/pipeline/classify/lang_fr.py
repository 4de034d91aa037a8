"""French: lexicons, question grammar and sentiment words (accents optional: ``[ée]``)."""

from __future__ import annotations

import re

from gateway.pipeline.classify.lexicon import LexiconSet
from gateway.pipeline.classify.rules import LanguageRules

_COMPLAINT_TERMS: dict[str, str] = {
    "pas arrivée": r"(?:toujours|jamais|pas encore|toujours pas|pas) (?:re[çc]u|arriv[ée]e?s?|"
    r"livr[ée]e?s?|l[àa]|rembours[ée]e?)|n'est (?:toujours |jamais )?pas (?:arriv[ée]e?|l[àa])|"
    r"jamais arriv[ée]e?",
    "ne marche pas": r"(?:ne|n') ?(?:marche|fonctionne|charge|s'allume|se connecte)s? (?:plus|pas)|"
    r"(?:marche|fonctionne) pas|ne sert à rien|sert à rien|en panne|cass[ée]e?s?|"
    r"ab[îi]m[ée]e?s?|d[ée]fectueu(?:x|se)|endommag[ée]e?",
    "personne ne répond": r"personne ne (?:r[ée]pond|rappelle|m'aide)|aucune r[ée]ponse|"
    r"sans (?:nouvelles|r[ée]ponse)|pas de r[ée]ponse",
    "catastrophique": r"catastroph(?:e|ique)|inadmissible|inacceptable|honteu(?:x|se)|"
    r"scandale|scandaleu(?:x|se)|nul(?:le)?|lamentable|horrible|arnaque|une blague",
    "attends depuis": r"j'attends (?:\w+ )?depuis|depuis (?:\w+ )?(?:jours|semaines|mois|heures)|"
    r"depuis un mois|depuis une semaine|(?:trois|deux|quatre) semaines",
    "débité deux fois": r"d[ée]bit[ée]e? deux fois|pr[ée]lev[ée]e? deux fois|"
    r"factur[ée]e? deux fois",
    "plante": r"plante|bug(?:ue)?|se d[ée]connecte|se bloque|red[ée]marre|freeze",
    "déçu": r"d[ée][çc]ue?s?|d[ée]ception|d[ée]cevant",
    "plus jamais": r"plus jamais|je ne recommande pas|à fuir",
    "marre": r"(?:j'en ai|ras le bol|marre)|[ée]nerv[ée]e?|furieu(?:x|se)",
    "toujours rien": r"toujours rien|d[ée]j[àa] essay[ée]|rien n'a chang[ée]|toujours pareil|"
    r"toujours le m[êe]me",
    "efface": r"(?:efface|supprime|a effac[ée]|a supprim[ée]) (?:mes|mon|ma|tout)",
    "batterie": r"tient (?:\w+ )?(?:deux|trois|une) heures?|ne tient (?:plus|pas)",
}
_SOFT_COMPLAINT_TERMS: dict[str, str] = {
    "problème": r"probl[èe]mes?|erreurs?|souci",
    "lent": r"lente?|en retard|retard",
    "dommage": r"dommage",
}
_TOPIC_COMPLAINT_TERMS: dict[str, str] = {
    "remboursement": r"remboursements?",
    "annuler": r"annuler|annulation|r[ée]silier|r[ée]siliation",
}
_QUESTION_PHRASES: dict[str, str] = {
    "besoin d'aide": r"besoin d'aide|aidez[- ]moi|pouvez[- ]vous m'aider|de l'aide pour",
    "quelqu'un sait": r"quelqu'un sait|petite question|question :|une question",
    "est-ce que": r"est[- ]ce que|est[- ]ce qu'|comment (?:je|on|faire)|peut[- ]on",
}
_PRAISE_TERMS: dict[str, str] = {
    "merci": r"merci|je vous remercie",
    "adore": r"j'adore|adore|j'aime|ador[ée]",
    "excellent": r"excellent(?:e)?|parfait(?:e)?|g[ée]nial(?:e)?|super|top|g[ée]nial|"
    r"formidable|incroyable|magnifique|impeccable|g[ée]niaux|tr[èe]s bien|bien jou[ée]",
    "les meilleurs": r"les meilleur(?:s|es)|le meilleur|la meilleure",
    "rapide": r"rapides?|rapidement",
    "bravo": r"bravo|chapeau|f[ée]licitations",
    "rien à redire": r"rien à redire|pas mal|rien à dire|aucun souci|aucun probl[èe]me|"
    r"(?:ça|ca) marche (?:maintenant|tr[èe]s bien|bien)|marche tr[èe]s bien",
}
_DECLINE: dict[str, str] = {
    "decline": r"non,? merci|pas int[ée]ress[ée]e?|pas besoin|pas maintenant|"
    r"plus tard peut[- ][êe]tre",
}
_CONTRAST: dict[str, str] = {"mais": r"mais|cependant|pourtant|dommage|par contre"}
_ACK: dict[str, str] = {"ack": r"ok|d'accord|entendu|oui|compris|tr[èe]s bien"}

_OPENERS = re.compile(
    r"^(?:(?:@\S+|bonjour|salut|bonsoir|coucou|et|mais|svp|s'il vous pla[îi]t|"
    r"petite question|question)\b[\s,:;.-]*)*"
)
_INTERROGATIVE = re.compile(
    r"^(?:(?P<wh>comment|pourquoi|o[ùu]|quand|quel(?:le)?s?|qui|combien|que|qu'est[- ]ce)\b|"
    r"(?P<aux>(?:est[- ]ce|vous (?:avez|livrez|faites|proposez|acceptez)|avez[- ]vous|"
    r"puis[- ]je|peut[- ]on|y a[- ]t[- ]il|il y a)))\b"
)
_SENTIMENT_WORDS: dict[str, float] = {
    "bien": 1.5,
    "bon": 1.8,
    "bonne": 1.8,
    "super": 2.8,
    "excellent": 3.0,
    "parfait": 2.8,
    "merci": 1.9,
    "adore": 2.9,
    "génial": 2.8,
    "top": 2.2,
    "rapide": 1.2,
    "meilleurs": 2.5,
    "meilleur": 2.3,
    "bravo": 2.5,
    "content": 2.2,
    "contente": 2.2,
    "heureux": 2.5,
    "mal": -1.8,
    "nul": -2.5,
    "nulle": -2.5,
    "horrible": -2.8,
    "catastrophique": -3.0,
    "catastrophe": -3.0,
    "déçu": -2.4,
    "déçue": -2.4,
    "inadmissible": -2.8,
    "problème": -1.4,
    "bug": -1.4,
    "plante": -1.5,
    "dommage": -1.5,
    "lent": -1.2,
    "jamais": -0.8,
    "personne": -0.5,
    "rien": -0.5,
    "arnaque": -3.0,
    "abîmé": -1.8,
    "cassé": -1.8,
    "marre": -2.3,
    "retard": -1.2,
}

RULES = LanguageRules(
    code="fr",
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
        negators=("pas", "jamais", "plus", "rien", "personne", "aucun", "aucune", "sans", "ni"),
    ),
    openers=_OPENERS,
    interrogative=_INTERROGATIVE,
    sentiment_words=_SENTIMENT_WORDS,
    boosters=frozenset({"très", "tres", "trop", "vraiment", "super", "tellement", "si"}),
)
