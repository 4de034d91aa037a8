# Consent (part of package engagement): respect what the customer said about being contacted.
# A customer who opted out, or who marked their name, profile or post with a no-bot marker
# such as #nobot, is never answered; a post that may ask not to be answered is reviewed.
package engagement

import rego.v1

# METADATA
# title: Deny - opted out
# description: |
#   Deny (opted_out) when the customer has opted out of contact (input.customer.opted_out).
#   Any value but false counts as opted out, so a malformed value fails closed.
deny_reasons contains {
	"code": "opted_out",
	"rule": "engagement.consent.opted_out",
	"message": "The customer has opted out of contact on this channel.",
} if input.customer.opted_out != false

# METADATA
# title: Deny - no-bot marker
# description: |
#   Deny (nobot) when the author's display name, profile description (bio) or the mention
#   text carries one of data.engagement.nobot_markers (e.g. "#nobot", "#noai"),
#   case-insensitively; a marker must end a word ("#NoBot!" counts, "#nobotany" does not).
deny_reasons contains {"code": "nobot", "rule": "engagement.consent.nobot", "message": message} if {
	count(data.engagement.nobot_markers) > 0
	pattern := concat("", ["(?:", concat("|", data.engagement.nobot_markers), `)\b`])
	author := input.mention.author
	text := lower(concat("\n", [
		object.get(author, "display_name", ""),
		object.get(author, "description", ""),
		input.mention.text,
	]))
	found := regex.find_n(pattern, text, -1)
	count(found) > 0
	message := sprintf(
		"The author asked not to be contacted by brands or bots (%s in their name, profile or post).",
		[_quoted({marker | some marker in found})],
	)
}

# METADATA
# title: Review - possible opt-out
# description: |
#   Review (possible_opt_out) when the mention may ask not to be answered, but not clearly
#   enough to record an opt-out: "don't reply to this", "not now", "nobody asked you",
#   "leave me alone" next to "I'm talking to my friend" (input.mention.possible_opt_out,
#   set by the gateway's opt-out detector). A person decides whether to answer at all.
#   Absent means false; any other value but false counts, so a malformed value is reviewed.
review_reasons contains {
	"code": "possible_opt_out",
	"rule": "engagement.consent.possible_opt_out",
	"message": "The customer may have asked not to be answered; a person must check before anyone replies.",
} if object.get(input.mention, "possible_opt_out", false) != false
