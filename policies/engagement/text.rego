# Text matching shared by the rule families (part of package engagement).
#
# Term lists from data.json (blocked terms, legal terms, sensitive topics) are turned into
# one regular expression per list and matched against the lowercased text (the terms are
# lowercased too, so a term written in upper case still matches): a term matches
# as whole words, and a space inside a term matches any run of characters other than a-z
# and 0-9, so the term "cease and desist" is found in "Cease-and-desist!", and "sue" is not
# found in "pursue" or "issue". Terms must be lowercase plain words (letters, digits, single
# spaces, ' and -): test_allow_data_terms_are_plain_words checks the shipped data.
#
# Why one regex per list, built inside each rule body, rather than a loop over the terms
# and small helper rules: in the embedded engine every rule, function call and builtin call
# costs microseconds, and a decision runs all rules. Per-term work and helper functions
# are kept to the paths where a reason is raised (the message), which are rare.
#
# Patterns are RE2 (no look-around, no back-references), so they mean the same in regorus
# (Rust regex) and in OPA (Go regexp); the one known difference is that \b is
# Unicode-aware in regorus and ASCII-only in OPA, which matters only next to non-ASCII
# letters. Unicode classes such as \W or \pL are avoided inside the built regexes: regorus
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

# The regex finding any of terms as whole words in lowercased text. Used on the paths that
# build a message; rule bodies inline the same expression.
_terms_regex(terms) := concat("", [`\b(?:`, replace(lower(concat("|", terms)), " ", `[^a-z0-9]+`), `)\b`])
