# Sensitive topics (part of package engagement): health, finance and personal crisis.
# A public reply on these topics can read as medical or financial advice, or miss a person
# in distress; a reviewer checks it first.
package engagement

import rego.v1

# METADATA
# title: Review - sensitive topic
# description: |
#   Review (sensitive_topic) a conversation where a term of one of
#   data.engagement.sensitive_topics (health, finance, crisis ...) appears in the mention
#   or in the reply. The message names each topic and the terms found.
review_reasons contains {
	"code": "sensitive_topic",
	"rule": "engagement.sensitive.sensitive_topic",
	"message": message,
} if {
	# Every topic's terms in one regex first; the per-topic work runs only on a match.
	alternatives := [concat("|", terms) | some terms in data.engagement.sensitive_topics; count(terms) > 0]
	count(alternatives) > 0
	text := _folded(concat("\n", [input.mention.text, input.reply.text]))
	regex.match(_terms_regex(alternatives), text)
	found := [sprintf("%s: %s", [topic, _quoted_terms(matches)]) |
		some topic in sort([t | some t, _ in data.engagement.sensitive_topics])
		terms := data.engagement.sensitive_topics[topic]
		count(terms) > 0
		matches := regex.find_n(_terms_regex(terms), text, -1)
		count(matches) > 0
	]
	count(found) > 0
	message := sprintf(
		concat(" ", [
			"The conversation touches a sensitive topic (%s); a reviewer must check",
			"that the reply gives no medical or financial advice.",
		]),
		[concat("; ", found)],
	)
}
