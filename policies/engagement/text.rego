# Text matching shared by the rule families (part of package engagement).
#
# Term lists from data.json (blocked terms, legal terms, sensitive topics) are turned into
# one regular expression per list and matched against the folded text: lowercased, with the
# accented Latin letters of the supported languages written as ASCII ("Médico" is
# "medico", "ärztlich" is "arztlich", "ß" is "ss"; the terms are folded the same way, so a
# term may be written with or without its accents). A term matches as whole words, and a
# space inside a term matches any run of characters other than a-z and 0-9, so the term
# "cease and desist" is found in "Cease-and-desist!", and "sue" is not found in "pursue" or
# "issue". A word of a term that ends in "*" also matches the word with any ending: the
# word forms people write ("medic*" finds "medical", "medically", "medication";
# "prescri*" finds "prescribed", "prescription"). Where a stem would catch other words
# ("invest*" is in "investigate"), the forms are listed instead ("invest", "invested",
# "investing"). Terms must be lowercase plain words (letters, digits, single spaces, ' and
# -, a "*" ending a word): test_allow_data_terms_are_plain_words checks the shipped data.
#
# Why one regex per list, built inside each rule body, rather than a loop over the terms
# and small helper rules: in the embedded engine every rule, function call and builtin call
# costs microseconds, and a decision runs all rules. Per-term work and helper functions
# are kept to the paths where a reason is raised (the message), which are rare.
#
# Patterns are RE2 (no look-around, no back-references), so they mean the same in regorus
# (Rust regex) and in OPA (Go regexp); the one known difference is that \b is
# Unicode-aware in regorus and ASCII-only in OPA, which matters only next to non-ASCII
# letters; folding turns the accented letters of the supported languages into ASCII first,
# so the two engines agree on every word those languages write. Unicode classes such as \W or \pL are avoided inside the built regexes: regorus
# caps a compiled regex at 100 KB and each Unicode class takes a large share of it.
package engagement

import rego.v1

# Matches of a term regex, back to the configured spelling ("cease and desist" for
# "cease-and-desist"), quoted and joined for a message: "a", "b".
_quoted_terms(matches) := _quoted({term |
	some found in matches
	term := regex.replace(found, `[^\pL\pN]+`, " ")
})

# Quotes and joins a set of strings for a message: "a", "b".
_quoted(terms) := concat(", ", [concat("", [`"`, t, `"`]) | some t in sort(terms)])

# The regex finding any of terms (and, for a word ending in "*", its forms) as whole words
# in folded text (_folded).
_terms_regex(terms) := concat("", [
	`\b(?:`,
	replace(replace(_folded(concat("|", terms)), " ", `[^a-z0-9]+`), "*", `[a-z0-9]*`),
	`)\b`,
])

# Lowercase, accented Latin letters written as ASCII: what term lists are matched against.
_folded(text) := strings.replace_n(_fold, lower(text))

_fold := {
	"à": "a", "á": "a", "â": "a", "ã": "a", "ä": "a", "å": "a", "æ": "ae", "ç": "c",
	"è": "e", "é": "e", "ê": "e", "ë": "e", "ì": "i", "í": "i", "î": "i", "ï": "i",
	"ñ": "n", "ò": "o", "ó": "o", "ô": "o", "õ": "o", "ö": "o", "ø": "o", "œ": "oe",
	"ù": "u", "ú": "u", "û": "u", "ü": "u", "ý": "y", "ÿ": "y", "ß": "ss",
}
