# Intent (part of package engagement): reply to complaints and questions only.
# Praise is not answered unless data.engagement.allow_praise is true; "other" never is,
# unless added to data.engagement.eligible_intents.
package engagement

import rego.v1

# METADATA
# title: Deny - intent not eligible
# description: |
#   Deny (intent_not_eligible) when the mention's classified intent (input.mention.intent)
#   is not in data.engagement.eligible_intents, except "praise" when
#   data.engagement.allow_praise is true.
deny_reasons contains {"code": "intent_not_eligible", "rule": "engagement.intent.not_eligible", "message": message} if {
	not input.mention.intent in data.engagement.eligible_intents
	not _praise_allowed
	message := sprintf(
		"The mention is classified as \"%s\"; the brand only replies to %s.",
		[input.mention.intent, concat(", ", sort(replyable_intents))],
	)
}

_praise_allowed if {
	input.mention.intent == "praise"
	data.engagement.allow_praise == true
}

# METADATA
# title: Replyable intents
# description: |
#   The mention intents the brand replies to: data.engagement.eligible_intents, plus
#   "praise" when data.engagement.allow_praise is true.
replyable_intents contains intent if {
	some intent in data.engagement.eligible_intents
}

replyable_intents contains "praise" if data.engagement.allow_praise == true
