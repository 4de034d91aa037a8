# Intent (part of package engagement): reply to complaints and questions only.
# Praise is not answered unless data.engagement.allow_praise is true; "other" never is,
# unless added to data.engagement.eligible_intents. A post may carry more than one intent
# (input.mention.intents, each with a score): it is eligible when its primary intent is,
# or when any of its intents is with a score of at least data.engagement.min_intent_score.
# Where the classifier cannot be trusted, a person decides instead of the rule: a post in a
# language it does not read (intent "unknown") and a post whose intent an agent flagged as
# wrong go to review.
package engagement

import rego.v1

# METADATA
# title: Deny - intent not eligible
# description: |
#   Deny (intent_not_eligible) when no intent of the mention is replyable: neither the
#   primary intent (input.mention.intent) nor any of input.mention.intents scoring at least
#   data.engagement.min_intent_score is in replyable_intents. Not raised for intent
#   "unknown" (language_unsupported) or a flagged intent (intent_overridden): those go to
#   review.
deny_reasons contains {"code": "intent_not_eligible", "rule": "engagement.intent.not_eligible", "message": message} if {
	not _intent_eligible
	input.mention.intent != "unknown"
	not _intent_flagged
	message := sprintf(
		"The mention is classified as \"%s\"; the brand only replies to %s.",
		[input.mention.intent, concat(", ", sort(replyable_intents))],
	)
}

# METADATA
# title: Review - language unsupported
# description: |
#   Review (language_unsupported) a reply to a mention the classifier could not read: its
#   intent is "unknown" because it is written in a language outside the classified ones
#   (input.mention.language names it). A person decides whether it deserves an answer.
review_reasons contains {"code": "language_unsupported", "rule": "engagement.intent.language_unsupported", "message": message} if {
	input.mention.intent == "unknown"
	language := object.get(input.mention, "language", null)
	message := sprintf(
		"The mention is written in a language the classifier does not read (%s); a reviewer decides whether to answer.",
		[_language_name(language)],
	)
}

_language_name(language) := language if is_string(language)

_language_name(language) := "undetermined" if not is_string(language)

# METADATA
# title: Review - intent overridden
# description: |
#   Review (intent_overridden) every reply to a mention whose classified intent an agent
#   flagged as wrong (input.mention.flagged_intent is set): the gateway's reading and the
#   agent's disagree, so neither decides alone and the reply never goes straight out.
review_reasons contains {"code": "intent_overridden", "rule": "engagement.intent.overridden", "message": message} if {
	_intent_flagged
	message := sprintf(
		"An agent flagged the classified intent \"%s\" as wrong (they read \"%s\"); a reviewer decides whether to answer.",
		[input.mention.intent, input.mention.flagged_intent],
	)
}

_intent_flagged if is_string(object.get(input.mention, "flagged_intent", null))

_intent_eligible if input.mention.intent in replyable_intents

_intent_eligible if {
	some scored in object.get(input.mention, "intents", [])
	scored.intent in replyable_intents
	scored.score >= _min_intent_score
}

# (Not object.get(data.engagement, ...): reading all of data.engagement would include
# this package's own rules, a recursion.)
default _min_intent_score := 0.5

_min_intent_score := data.engagement.min_intent_score

# METADATA
# title: Replyable intents
# description: |
#   The mention intents the brand replies to: data.engagement.eligible_intents, plus
#   "praise" when data.engagement.allow_praise is true.
replyable_intents contains intent if {
	some intent in data.engagement.eligible_intents
}

replyable_intents contains "praise" if data.engagement.allow_praise == true
