"""English: lexicons and question grammar (sentiment: VADER, see ``sentiment.py``)."""

from __future__ import annotations

import re

from gateway.pipeline.classify.lexicon import LexiconSet
from gateway.pipeline.classify.rules import LanguageRules

_NOT_YET = r"(?:hasn't|haven't|didn't|not)"  # "has not arrived" contains "not arrived"
_ANSWERS = r"(?:answers|replies|responds|cares|helps)"
_CANNOT = r"(?:can't|cannot|can not|unable to|couldn't)(?: i| we)?"

_COMPLAINT_TERMS: dict[str, str] = {
    "broken": r"broken|broke(?! even)|gave up|giving up",
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
    "crashing": r"crash(?:es|ed|ing)?|keeps? (?:failing|freezing|logging me out|breaking|"
    r"dropping|disconnecting|turning (?:itself )?off|restarting|beeping|cutting out)|"
    r"freezes|froze|disconnects|disconnected|drops out|cuts out",
    "outage": r"outages?|down again|(?:is|been|was|are) down (?:all|again|since|for)|"
    r"logged me out",
    "stopped": r"stopped (?:working|charging|connecting|pairing|responding|syncing)|"
    r"bricked|died on|unusable|made it worse|peeling|"
    + "|".join(
        f"(?:doesn't|does not|won't|will not|didn't|did not) {verb}"
        for verb in ("charge", "connect", "pair", "turn on", "switch on", "sync", "load")
    )
    + r"|(?:didn't|did not|doesn't) fix anything",
    "data lost": r"(?:deletes|deleted|wiped|erased|lost) (?:all )?(?:my|our)",
    "not hard": r"(?:it's|it is|is it) (?:not )?that hard|how hard (?:is|can) it be|"
    r"not rocket science|(?:no one|nobody|noone) (?:has been|is|was|seems) able to|"
    r"used to (?:be|work|last|have)|unbelievable|seriously(?=\?)|are you (?:kidding|serious)|"
    r"(?:left|dumped|threw|thrown) (?:my|the) (?:parcel|package|order|box)|worse",
    "done with": r"i'm (?:so )?done|i am (?:so )?done|done with you|why (?:do|should) i even|"
    r"what's the point|what is the point|how is (?:it|this|that) acceptable|"
    r"how many more times|are you ever going to|is (?:anybody|anyone) going to|"
    r"who thought",
    "where is my": r"where(?:'s| is) my (?:order|refund|package|parcel|money|delivery|item)",
    "not recommend": r"(?:would not|wouldn't|would never|do not|don't) recommend|"
    r"0/10|zero stars|one star|1 star|not impressed|not happy|not worth",
    "disaster": r"disaster|nightmare|shambles|a mess",
    "overpriced": r"overpriced|too expensive|way too much",
    "promised": r"promised|it's been (?:\d+|two|three|four|five|six|seven|a|several) "
    r"(?:days?|weeks?|months?)",
    "hashtag": r"#\w*fail\w*|#neveragain|#disappointed|#worst\w*|#boycott\w*",
    "hung up": r"hung up|cancel(?:l)?ed my order|cancelling my order",
    "still nothing": r"still (?:nothing|the same|broken|no|get|getting|happening|there)|"
    r"same (?:problem|issue|fault)|tried (?:that|it|this|everything)|already tried",
    "on hold": r"(?:hours?|minutes?|mins?) on hold|on hold for",
    "no response": r"no response|no reply|no answer|ignored|ghosted|"
    + "|".join(f"{who} {_ANSWERS}" for who in ("nobody", "no one", "noone")),
    "rude": r"rude|hostile",
    "fed up": r"fed up|sick (?:and tired )?of|tired of",
    "never again": r"never (?:again|buying|ordering|using|shopping|recommend)",
    "frustrated": r"frustrat(?:ed|ing|ion)",
    "annoyed": r"annoy(?:ed|ing)",
    "angry": r"angry|furious|livid",
    "complaint": r"complain(?:t|ts|ing)?",
    "thanks for nothing": r"thanks for nothing",
    "overcharged": r"charged a|charged me for|double charged|billed twice",
    "defective": r"defective|faulty|damaged",
    "wrong item": r"wrong (?:item|order|size|colou?r|product|package)",
    "cannot access": r"locked out|"
    + "|".join(f"{_CANNOT} {verb}" for verb in ("log ?in", "login", "sign ?in", "access", "pay")),
    "hacked": r"hacked|unauthori[sz]ed",
    "waste of money": r"waste of (?:time|money)",
    "fix this": r"fix (?:this|it|your)",
}
_TOPIC_COMPLAINT_TERMS: dict[str, str] = {
    "refund": r"refunds?",
    "cancel": r"cancel(?:l?ed|l?ing|lation)?",
}
_SOFT_COMPLAINT_TERMS: dict[str, str] = {
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
    "would like to know": r"(?:i'd|i would) (?:like|love) to know|(?:can|could) you tell me|"
    r"let me know|i was wondering|do you know|which \w+ (?:should|would|do|does|is|are|can)",
}
_PRAISE_TERMS: dict[str, str] = {
    "love": r"lov(?:e|ed|es|ing)",
    "thanks": r"thanks|thank (?:you|u)|thx|grateful|cheers",
    "great": r"great|nice|cool|beautiful|lovely|gorgeous|"
    r"good(?! morning| afternoon| evening| night| idea)",
    "helpful": r"helpful|friendly|quick(?:ly)?(?! question)|fast(?:est)?|smooth|easy to",
    "awesome": r"awesome",
    "amazing": r"amazing",
    "best": r"best",
    "excellent": r"excellent|outstanding|superb|fantastic|brilliant|wonderful|perfect(?:ly)?",
    "well done": r"well done|nice (?:job|work)|great (?:job|work)|good (?:job|work)|kudos|"
    r"shout ?out|props|fair play|congrat(?:s|ulations)|10/10|made my day",
    "impressed": r"impressed|lifesaver|life saver|lifesavers",
    "no complaints": r"no complaints|can't complain|cannot complain|can't fault|"
    r"not a single (?:problem|issue)|no (?:problems|issues) at all|no regrets|"
    r"not bad at all|nothing to complain about",
    "sorted": r"sorted (?:it|everything|my)|all sorted|that worked|works (?:perfectly|great)|"
    r"so happy|very happy|happier|wow",
}
_ACK: dict[str, str] = {
    "ack": r"ok(?:ay)?|will do|sure|noted|got it|alright|i'll (?:check|try|do|look)|"
    r"yes|yep|yeah|haha|lol",
}
_DECLINE: dict[str, str] = {
    "decline": r"no thanks|no thank you|not interested|no need|i'm good|not now|maybe later",
}
_CONTRAST: dict[str, str] = {
    "but": r"but|however|though|although|shame|pity|except",
}
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


RULES = LanguageRules(
    code="en",
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
        negators=("no", "not", "never", "without", "hardly", "zero", "nothing", "nobody"),
        stop_words=("stop", "stops", "quit", "quits"),
        intensifiers=r"(?:couldn't|could not|can't|cannot) (?:be|get|have been) (?:any )?more|"
        r"never (?:been|felt|seen) (?:so|such|more)",
    ),
    openers=_OPENERS,
    interrogative=_INTERROGATIVE,
)
