# Sensitive topics (part of package engagement): health, finance and personal crisis.
# A public reply on these topics can read as medical or financial advice, or miss a person
# in distress; a reviewer checks it first.
package engagement

import rego.v1

# METADATA
# title: Sensitive terms found
# description: |
#   For each topic of data.engagement.sensitive_topics (health, finance, crisis ...), the
#   set of its terms found in the mention or in the reply, as whole words,
#   case-insensitively. Topics with no match are absent.
sensitive_terms_found[topic] := found if {
	_any_term_in(_conversation_lower, _all_sensitive_terms)
	some topic, terms in data.engagement.sensitive_topics
	found := _terms_in(_conversation_lower, terms)
	count(found) > 0
}

# Every topic's terms as one list of "a|b|c" alternatives (joined again by _terms_regex):
# one regex test first, per-topic work only on a match.
_all_sensitive_terms := [concat("|", terms) | some terms in data.engagement.sensitive_topics; count(terms) > 0]

# METADATA
# title: Review - sensitive topic
# description: Review (sensitive_topic) a conversation that touches a sensitive topic.
review_reasons contains {"code": "sensitive_topic", "rule": "engagement.sensitive.sensitive_topic", "message": message} if {
	count(sensitive_terms_found) > 0
	topics := sort([topic | some topic, _ in sensitive_terms_found])
	found := [sprintf("%s: %s", [topic, _quoted(sensitive_terms_found[topic])]) | some topic in topics]
	message := sprintf(
		"The conversation touches a sensitive topic (%s); a reviewer must check that the reply gives no medical or financial advice.",
		[concat("; ", found)],
	)
}
