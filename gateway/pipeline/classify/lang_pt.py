"""Portuguese (Brazil and Portugal): lexicons, question grammar and sentiment words."""

from __future__ import annotations

import re

from gateway.pipeline.classify.lexicon import LexiconSet
from gateway.pipeline.classify.rules import LanguageRules

_COMPLAINT_TERMS: dict[str, str] = {
    "não chegou": r"(?:ainda n[ãa]o|n[ãa]o|nunca) (?:me )?(?:chegou|chegaram|recebi|entregaram|"
    r"foi entregue|veio)|nunca chegou|sem chegar",
    "não funciona": r"n[ãa]o (?:est[áa] )?(?:funciona|funcionou|liga|carrega|conecta)|"
    r"parou de funcionar|n[ãa]o adianta|quebrad[oa]s?|com defeito|defeituos[oa]|danificad[oa]",
    "ninguém responde": r"ningu[ée]m (?:me )?(?:responde|atende|ajuda|resolve)|sem resposta|"
    r"n[ãa]o (?:me )?respondem|n[ãa]o atendem",
    "péssimo": r"p[ée]ssim[oa]s?|horr[íi]vel|terr[íi]vel|absurdo|um lixo|lixo|vergonha|"
    r"rid[íi]cul[oa]|golpe|fraude|decepcionante",
    "esperando": r"esperando (?:\w+ )?h[áa]|h[áa] (?:\w+ )?(?:dias|semanas|meses)|"
    r"(?:tr[êe]s|duas|dois|quatro) semanas|h[áa] um m[êe]s|esperando (?:o|meu|minha)",
    "cobrado duas vezes": r"cobrad[oa] duas vezes|cobraram duas vezes|cobran[çc]a (?:dupla|"
    r"indevida)",
    "trava": r"trava(?:ndo)?|travou|desconecta|reinicia|fecha sozinho|bug(?:ado)?",
    "decepcionado": r"decepcionad[oa]|decep[çc][ãa]o|frustrad[oa]",
    "nunca mais": r"nunca mais|n[ãa]o recomendo",
    "cansado": r"cansad[oa] de|de saco cheio|irritad[oa]",
    "continua igual": r"continua (?:igual|sem|o mesmo)|j[áa] tentei|nada mudou|n[ãa]o resolveu",
    "apaga": r"(?:apaga|apagou|deleta|deletou) (?:minhas|meus|minha|meu|tudo)",
    "bateria": r"dura s[óo]|s[óo] dura",
}
_SOFT_COMPLAINT_TERMS: dict[str, str] = {
    "problema": r"problemas?|erros?|falha",
    "lento": r"lent[oa]|atrasad[oa]|atraso",
    "pena": r"uma pena|pena que",
}
_TOPIC_COMPLAINT_TERMS: dict[str, str] = {
    "reembolso": r"reembolsos?|estorno|devolu[çc][ãa]o",
    "cancelar": r"cancelar|cancelamento",
}
_QUESTION_PHRASES: dict[str, str] = {
    "preciso de ajuda": r"preciso de ajuda|me ajudem|ajuda (?:para|com)|podem me ajudar",
    "alguém sabe": r"algu[ée]m sabe|uma d[úu]vida|d[úu]vida:|uma pergunta",
    "como eu": r"como (?:eu|fa[çc]o|posso)|posso (?:pagar|trocar|usar)|d[áa] pra",
}
_PRAISE_TERMS: dict[str, str] = {
    "obrigado": r"obrigad[oa]|valeu|agrade[çc]o",
    "amei": r"amei|adorei|amo|adoro|gostei",
    "excelente": r"excelente|perfeit[oa]|[óo]tim[oa]|incr[íi]vel|maravilhos[oa]|"
    r"sensacional|top|demais|muito bom|muito boa|bom demais",
    "os melhores": r"(?:os|as|o|a) melhor(?:es)?",
    "rápido": r"r[áa]pid[oa]|rapidinho",
    "parabéns": r"parab[ée]ns|mandaram bem",
    "sem reclamar": r"n[ãa]o tenho do que reclamar|nada mal|sem reclama[çc][õo]es|"
    r"agora funcionou|funciona muito bem",
}
_DECLINE: dict[str, str] = {
    "decline": r"n[ãa]o,? obrigad[oa]|n[ãa]o tenho interesse|sem interesse|n[ãa]o precisa|"
    r"agora n[ãa]o",
}
_CONTRAST: dict[str, str] = {"mas": r"mas|por[ée]m|s[óo] que|pena que|contudo"}
_ACK: dict[str, str] = {"ack": r"ok|t[áa]|beleza|certo|sim|entendi|combinado"}

_OPENERS = re.compile(
    r"^(?:(?:@\S+|ol[áa]|oi|bom dia|boa tarde|boa noite|e a[íi]|e|mas|por favor|pfv|"
    r"uma d[úu]vida)\b[\s,:;.-]*)*"
)
_INTERROGATIVE = re.compile(
    r"^(?:(?P<wh>como|por ?que|onde|quando|qual|quais|quem|quanto|que horas|o que)\b|"
    r"(?P<aux>(?:voc[êe]s|tem|t[êe]m|posso|pode|podem|existe|h[áa]|vai|v[ãa]o|algu[ée]m|"
    r"a|o)\s(?:entregam|algum|alguma|o|a|pagar|trocar|ter|ser|me|modelo|caixa|garantia|"
    r"ai|a[íi])))\b"
)
_SENTIMENT_WORDS: dict[str, float] = {
    "bom": 1.8,
    "boa": 1.8,
    "ótimo": 2.8,
    "ótima": 2.8,
    "excelente": 3.0,
    "perfeito": 2.8,
    "obrigado": 1.9,
    "obrigada": 1.9,
    "amei": 2.9,
    "adorei": 2.8,
    "rápido": 1.2,
    "melhores": 2.5,
    "melhor": 2.3,
    "parabéns": 2.5,
    "feliz": 2.5,
    "incrível": 2.5,
    "ruim": -2.3,
    "péssimo": -3.0,
    "péssima": -3.0,
    "horrível": -2.8,
    "terrível": -2.8,
    "quebrado": -1.8,
    "defeito": -1.8,
    "decepcionado": -2.4,
    "absurdo": -2.5,
    "problema": -1.4,
    "erro": -1.3,
    "nunca": -0.8,
    "ninguém": -1.0,
    "lento": -1.2,
    "atraso": -1.2,
    "lixo": -2.8,
    "vergonha": -2.3,
    "reclamar": -1.0,
    "mal": -1.5,
    "pena": -1.2,
    "nada": -0.5,
}

RULES = LanguageRules(
    code="pt",
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
        negators=("não", "nao", "nunca", "nem", "sem", "nada", "ninguém", "jamais"),
    ),
    openers=_OPENERS,
    interrogative=_INTERROGATIVE,
    sentiment_words=_SENTIMENT_WORDS,
    boosters=frozenset({"muito", "super", "bem", "tão", "demais", "bastante"}),
)
