"""Spanish: lexicons, question grammar and sentiment words.

Accents are optional in the patterns (``lleg[oó]``): customers drop them.
"""

from __future__ import annotations

import re

from gateway.pipeline.classify.lexicon import LexiconSet
from gateway.pipeline.classify.rules import LanguageRules

_COMPLAINT_TERMS: dict[str, str] = {
    "no llega": r"(?:nunca|no|sin|todav[ií]a no|a[uú]n no) (?:me )?(?:ha )?(?:lleg[oóa]|llegado|"
    r"llegar)|sigue sin (?:llegar|funcionar|respuesta|resolver)|sin llegar",
    "no funciona": r"(?:no|ya no|dej[oó] de|dejaron de|dejan de) (?:me )?funcion(?:a|an|ar|[oó])|"
    r"no sirve|no va|no anda|no carga|no conecta|no enciende",
    "roto": r"rot[oa]s?|da[ñn]ad[oa]s?|defectuos[oa]s?|estropead[oa]s?|averiad[oa]s?",
    "nadie responde": r"nadie (?:me )?(?:responde|contesta|atiende|ayuda)|sin respuesta|"
    r"no (?:me )?(?:responden|contestan|atienden)",
    "esperando": r"(?:llevo|llevamos) (?:\w+ )?(?:d[ií]as|semanas|meses|horas) esperando|"
    r"esperando (?:desde|hace|mi|el|la)|una hora esperando|horas esperando|"
    r"(?:ya )?van (?:\w+ )?(?:d[ií]as|semanas|meses)",
    "cobro doble": r"cobraron dos veces|cobrado dos veces|doble cobro|me cobraron|cobro indebido",
    "pésimo": r"p[eé]sim[oa]s?|horrible|fatal|terrible|desastre|verg[uü]enza|lament[ao]ble|"
    r"asqueros[oa]|una estafa|estafa|timo|basura",
    "harto": r"hart[oa]s?|cansad[oa] de|me tienen",
    "decepción": r"decepci[oó]n|decepcionad[oa]|decepcionante",
    "se desconecta": r"se (?:desconecta|cuelga|bloquea|apaga|reinicia|cierra)|"
    r"falla(?:ndo)?|fall[oó]",
    "nunca más": r"nunca m[aá]s|no lo recomiendo|no recomiendo",
    "no me dejan": r"no me (?:dejan|deja|permiten)|no puedo (?:cancelar|entrar|acceder|pagar)",
    "borra": r"(?:borra|borr[oó]|elimin[aó]) (?:mis|mi|todas|todo)",
    "tarde": r"lleg[oó] tarde|con retraso|retrasad[oa]",
    "igual": r"sigo igual|sigue igual|lo mismo|ya lo intent[eé]|no sirve de nada|nada de nada",
}
_SOFT_COMPLAINT_TERMS: dict[str, str] = {
    "error": r"errore?s?|fallo|problemas?",
    "lástima": r"l[aá]stima|pena que",
    "poco": r"dura (?:muy )?poco|muy lent[oa]|lent[oa]",
}
_TOPIC_COMPLAINT_TERMS: dict[str, str] = {
    "reembolso": r"reembolsos?|devoluci[oó]n",
    "cancelar": r"cancelar|cancelaci[oó]n",
}
_QUESTION_PHRASES: dict[str, str] = {
    "necesito ayuda": r"necesito (?:ayuda|saber)|me pueden ayudar|ayuda (?:para|con)",
    "alguien sabe": r"alguien sabe|sab[eé]is si|saben si|una pregunta|pregunta:",
    "cómo puedo": r"c[oó]mo (?:puedo|se|hago|cambio)|se puede",
}
_PRAISE_TERMS: dict[str, str] = {
    "gracias": r"gracias|mil gracias|agradecid[oa]",
    "encanta": r"me encanta|encantad[oa]|me gusta|amo",
    "excelente": r"excelente|perfect[oa]|genial|incre[ií]ble|maravill(?:a|os[oa])|"
    r"fant[aá]stic[oa]|estupend[oa]|buen[oa]|buen[ií]sim[oa]",
    "mejores": r"(?:los|las|el|la) mejor(?:es)?|sois (?:los|las) mejores|son (?:los|las) mejores",
    "rápido": r"r[aá]pid[oa]|rapid[ií]sim[oa]",
    "enhorabuena": r"enhorabuena|felicidades|bravo|olé",
    "sin quejas": r"no me puedo quejar|ninguna queja|sin quejas|nada mal|ya funciona",
}
_DECLINE: dict[str, str] = {
    "decline": r"no,? gracias|no me interesa|no hace falta|ahora no|quiz[aá]s luego",
}
_CONTRAST: dict[str, str] = {"pero": r"pero|aunque|l[aá]stima|sin embargo"}
_ACK: dict[str, str] = {"ack": r"vale|ok|de acuerdo|entendido|s[ií]|listo"}

_OPENERS = re.compile(
    r"^(?:(?:@\S+|hola|buenas|buenos d[ií]as|oye|oigan|eh|y|pero|por favor|porfa|"
    r"una pregunta)\b[\s,:;.-]*)*"
)
_INTERROGATIVE = re.compile(
    r"^(?:(?P<wh>¿|c[oó]mo|por ?qu[eé]|d[oó]nde|cu[aá]ndo|qu[eé]|cu[aá]l(?:es)?|"
    r"qui[eé]n(?:es)?|cu[aá]nto)\b|(?P<aux>(?:hay|hacen|tienen|puedo|pueden|se puede|"
    r"es|est[aá]|van a|alguien)\s))"
)
_SENTIMENT_WORDS: dict[str, float] = {
    "bien": 1.5,
    "bueno": 1.8,
    "buena": 1.8,
    "genial": 2.8,
    "excelente": 3.0,
    "perfecto": 2.8,
    "gracias": 1.9,
    "encanta": 2.9,
    "feliz": 2.5,
    "contento": 2.2,
    "contenta": 2.2,
    "increíble": 2.5,
    "rápido": 1.2,
    "mejor": 2.0,
    "mejores": 2.2,
    "amable": 1.8,
    "maravilla": 2.8,
    "enhorabuena": 2.5,
    "mal": -2.0,
    "malo": -2.3,
    "mala": -2.3,
    "horrible": -2.8,
    "pésimo": -3.0,
    "pésima": -3.0,
    "fatal": -2.8,
    "terrible": -2.8,
    "roto": -1.8,
    "rota": -1.8,
    "nunca": -0.8,
    "nadie": -1.0,
    "harto": -2.3,
    "harta": -2.3,
    "decepción": -2.4,
    "vergüenza": -2.3,
    "estafa": -3.0,
    "problema": -1.4,
    "error": -1.3,
    "tarde": -0.8,
    "lástima": -1.5,
    "desastre": -2.8,
    "falla": -1.5,
    "poco": -0.5,
    "lento": -1.3,
    "quejar": -1.0,
}

RULES = LanguageRules(
    code="es",
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
        negators=("no", "nunca", "jamás", "sin", "ni", "nada", "nadie", "tampoco"),
    ),
    openers=_OPENERS,
    interrogative=_INTERROGATIVE,
    sentiment_words=_SENTIMENT_WORDS,
    boosters=frozenset({"muy", "tan", "super", "súper", "demasiado", "bastante"}),
)
