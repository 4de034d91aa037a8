# Text matching shared by the rule families (part of package engagement).
#
# Term lists from data.json (blocked terms, legal terms, sensitive topics) are turned into
# one regular expression per list, matched against the lowercased text: a term matches as
# whole words, and a space inside a term matches any run of non-word characters, so the
# term "cease and desist" is found in "Cease-and-desist!", and "sue" is not found in
# "pursue" or "issue". Terms must be lowercase plain words (letters, digits, single spaces,
# ' and -); the tests test_allow_data_terms_are_plain_words checks the shipped data.
#
# One regex per list, rather than a loop over terms, keeps an evaluation fast: each builtin
# call costs microseconds in the embedded engine. Patterns are RE2 (no look-around, no
# back-references), so they mean the same in regorus (Rust regex) and in OPA (Go regexp);
# the one known difference is that \b and \W are Unicode-aware in regorus and ASCII-only
# in OPA, which matters only next to non-ASCII letters.
package engagement

import rego.v1

# A regex finding any of terms as whole words in lowercased text.
_terms_regex(terms) := concat("", [`\b(?:`, replace(concat("|", terms), " ", `[^a-z0-9]+`), `)\b`])

# The terms of the list found in lowercased text, as configured ("cease and desist" for
# "cease-and-desist"). Empty when the list is empty.
_terms_in(text, terms) := {term |
	count(terms) > 0
	some found in regex.find_n(_terms_regex(terms), text, -1)
	term := regex.replace(found, `[^\pL\pN]+`, " ")
}

# True when any of terms occurs in lowercased text. Cheaper than _terms_in on a miss.
_any_term_in(text, terms) if {
	count(terms) > 0
	regex.match(_terms_regex(terms), text)
}

# One regex matching any of patterns.
_any_of(patterns) := concat("", ["(?:", concat(")|(?:", patterns), ")"])

# The reply, the mention, and both, lowercased once per evaluation.
_reply_lower := lower(input.reply.text)

_mention_lower := lower(input.mention.text)

_conversation_lower := concat("\n", [_mention_lower, _reply_lower])

# Quotes and joins a set of terms for a message: "a", "b".
_quoted(terms) := concat(", ", [concat("", [`"`, t, `"`]) | some t in sort(terms)])
