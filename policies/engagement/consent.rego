# Consent (part of package engagement): respect what the customer said about being contacted.
# A customer who opted out, or who marked their post or name with a no-bot marker such as
# #nobot, is never answered.
package engagement

import rego.v1

# METADATA
# title: Customer opted out
# description: |
#   True when the customer has opted out of contact (input.customer.opted_out). Anything
#   but false counts as opted out, so a malformed value fails closed.
customer_opted_out if input.customer.opted_out != false

# METADATA
# title: No-bot markers found
# description: |
#   The markers from data.engagement.nobot_markers (e.g. "#nobot") found in the author's
#   display name or in the mention text, lowercased; case-insensitive, and a marker must
#   end a word ("#NoBot!" counts, "#nobotany" does not).
nobot_markers_found := {marker |
	count(data.engagement.nobot_markers) > 0
	some marker in regex.find_n(_nobot_regex, _nobot_text, -1)
}

_nobot_regex := concat("", ["(?:", lower(concat("|", data.engagement.nobot_markers)), `)\b`])

_nobot_text := lower(concat("\n", [object.get(input.mention.author, "display_name", ""), input.mention.text]))

# METADATA
# title: Deny - opted out
# description: Deny (opted_out) when the customer has opted out of contact.
deny_reasons contains {
	"code": "opted_out",
	"rule": "engagement.consent.opted_out",
	"message": "The customer has opted out of contact on this channel.",
} if customer_opted_out

# METADATA
# title: Deny - no-bot marker
# description: Deny (nobot) when the author marked their name or post with a no-bot marker.
deny_reasons contains {"code": "nobot", "rule": "engagement.consent.nobot", "message": message} if {
	count(nobot_markers_found) > 0
	message := sprintf(
		"The author asked not to be contacted by brands or bots (%s in their name or post).",
		[_quoted(nobot_markers_found)],
	)
}
