"""Language: which language a mention is written in (ISO 639-1), or None.

Detection uses ``lingua-language-detector`` (its models ship inside the wheel; nothing is
downloaded), restricted to the classified languages (en, es, de, fr, pt) plus the ones
customers most often write in otherwise, so that an Italian post is found to be Italian
instead of being forced into Spanish. Restricting the set makes lingua faster and more
accurate on short texts.

Short texts are where detectors fail ("ok" reads as Dutch, "I'm done" as Italian), so:

1. handles, hashtags, links, digits and emoji are ignored;
2. a text in Latin script with fewer than ``MIN_WORDS`` words left has no language
   (None) unless its function words name one; the classifier then reads it with the
   English rules (emoji, punctuation and the handful of words it has);
3. function words first: when at least two distinctive function words of one classified
   language occur and none of another ("the", "my" / "mi", "el" / "ich", "nicht"), that
   language is taken without asking lingua. Most English posts end here, which keeps
   classification fast; anything less clear is lingua's call.
"""

from __future__ import annotations

import re
import threading

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

CLASSIFIED = ("en", "es", "de", "fr", "pt")
MIN_WORDS = 3

_DETECTED = (
    Language.ENGLISH,
    Language.SPANISH,
    Language.GERMAN,
    Language.FRENCH,
    Language.PORTUGUESE,
    Language.ITALIAN,
    Language.DUTCH,
    Language.POLISH,
    Language.TURKISH,
    Language.SWEDISH,
    Language.RUSSIAN,
    Language.UKRAINIAN,
    Language.GREEK,
    Language.ARABIC,
    Language.HEBREW,
    Language.HINDI,
    Language.JAPANESE,
    Language.CHINESE,
    Language.KOREAN,
)


# Distinctive function words: frequent in one classified language, rare as words in the
# others ("es", "du", "da", "do", "was", "will", "so" are left out: they are words in two).
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the my i i'm im i'll i've i'd you your you're is it it's this that to of for with "
        "what why how who where which can can't don't doesn't didn't won't isn't wasn't "
        "aren't couldn't wouldn't haven't hasn't have has had just are were been be being "
        "still again already please thanks thank but get got did does do when would could "
        "should they them their we our us out all never any anyone anybody nobody nothing "
        "everything anything there here from after and or not up about now new love great "
        "best good happy need want know think day today tonight tomorrow same check every "
        "twice since only more than then these those she he his her its into some such let "
        "let's over well done made make one two three at an by"
    ),
    "es": _words(
        "el los las mis y está están pero muy ya gracias qué cómo hola del sus tengo hay "
        "hace desde sigue sin esto cuándo dónde también puedo llegó nadie ningún ninguna mi "
        "nuestro vuestro ustedes usted"
    ),
    "de": _words(
        "ich nicht und ist der das mein meine mit kein keine seit auf ein eine bitte danke "
        "noch schon warum wieder immer für habe hat euer eure ihr nach aber sehr auch wird "
        "wurde bei von dem gerade endlich jetzt euch"
    ),
    "fr": _words(
        "je j'ai le les mon mes est et pas ne n'est une des pour avec vous votre vos c'est "
        "toujours merci jamais depuis mais très ça où quand sur au aux rien suis"
    ),
    "pt": _words(
        "o os meu minha não é uma com muito ainda ninguém vocês obrigado obrigada dos das "
        "na pelo pela já há estou tá foi até isso sem você seu sua ao"
    ),
}
# Words of languages the classifier does not read that would otherwise look English
# ("is", "in", "of" in Dutch): when they win, lingua decides.
_OTHER_WORDS: dict[str, frozenset[str]] = {
    "it": _words("il di che non per sono mio mia questo ho ha grazie ancora mai nessuno"),
    "nl": _words("het een niet ik mijn van nog geen bedankt voor wat hoe zijn"),
}
_NOISE = re.compile(r"[@#][\w.@-]+|https?://\S+|www\.\S+")
_LETTER_WORD = re.compile(r"[^\W\d_][\w'-]*")

_lock = threading.Lock()
_detector: LanguageDetector | None = None


def _lingua() -> LanguageDetector:
    global _detector
    with _lock:
        if _detector is None:
            _detector = LanguageDetectorBuilder.from_languages(*_DETECTED).build()
        return _detector


def load_models() -> None:
    """Load lingua's models now (they otherwise load on the first text that needs them)."""
    _lingua().detect_language_of("il mio ordine non è ancora arrivato")


def _latin(word: str) -> bool:
    """Latin script (ASCII and Latin-1/Extended letters); CJK, Cyrillic, Greek and the
    like tell their language by script, so a short text in them still goes to lingua."""
    return all(ord(ch) < 0x250 for ch in word)


_VOCABULARIES = (*_FUNCTION_WORDS.items(), *_OTHER_WORDS.items())
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {}
"""Each function word → the languages whose list holds it (one look-up per word)."""
for _lang, _vocab in _VOCABULARIES:
    for _word in _vocab:
        _LANGUAGES_OF[_word] = (*_LANGUAGES_OF.get(_word, ()), _lang)
del _lang, _vocab, _word


def _votes(words: list[str]) -> list[tuple[int, str]]:
    """(occurrences of its function words, language) for every language, highest first."""
    counts = dict.fromkeys((lang for lang, _ in _VOCABULARIES), 0)
    for word in words:
        for lang in _LANGUAGES_OF.get(word, ()):
            counts[lang] += 1
    return sorted(((n, lang) for lang, n in counts.items()), reverse=True)


def detect_language(prepared: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None when it has too little text."""
    text = (
        _NOISE.sub(" ", prepared)
        if ("@" in prepared or "#" in prepared or "/" in prepared)
        else prepared
    )
    words = [w.lower() for w in _LETTER_WORD.findall(text)]
    if not words:
        return None
    (best, lang), (second, _) = _votes(words)[:2]
    if best >= 2 and second == 0 and lang in _FUNCTION_WORDS:
        return lang
    if len(words) < MIN_WORDS and all(_latin(w) for w in words):
        return lang if best > second and lang in _FUNCTION_WORDS else None
    found = _lingua().detect_language_of(" ".join(words))
    if found is None:
        return lang if best > second and lang in _FUNCTION_WORDS else None
    return found.iso_code_639_1.name.lower()
