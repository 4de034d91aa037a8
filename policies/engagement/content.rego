# Content (part of package engagement): what the reply itself says.
# Blocked wording, unsolicited marketing offers, personal data the customer did not share,
# replies too long for the channel in any unit it counts (all deny), and legal language in
# the conversation (review). Term lists are matched as whole words and their forms,
# ignoring case and accents (see text.rego).
package engagement

import rego.v1

# METADATA
# title: Deny - blocked term
# description: |
#   Deny (blocked_term) a reply whose text contains one of data.engagement.blocked_terms:
#   wording the brand never uses. Only the reply is checked; customers may say anything.
#   Terms match in any case, even a term written in upper case. The message names the
#   terms found.
deny_reasons contains {"code": "blocked_term", "rule": "engagement.content.blocked_term", "message": message} if {
	count(data.engagement.blocked_terms) > 0
	found := regex.find_n(_terms_regex(data.engagement.blocked_terms), _folded(input.reply.text), -1)
	count(found) > 0
	message := sprintf("The reply contains blocked wording (%s); rephrase it.", [_quoted_terms(found)])
}

# METADATA
# title: Deny - marketing offer in the text
# description: |
#   Deny (marketing_offer) a reply whose lowercased text matches one of
#   data.engagement.marketing.text_patterns (discounts, promo codes, "% off", coupons,
#   sales ...) unless the customer asked for it (see _offer_solicited). The message names
#   the words and links that made it an offer. Every reply is
#   treated as unsolicited marketing-wise, except one to a mention whose intent is
#   "question" AND whose text asks about prices or offers
#   (data.engagement.marketing.solicited_patterns). A reply to a complaint that mentions a
#   price is still unsolicited, because answering a complaint with a coupon is marketing
#   the customer did not ask for.
deny_reasons contains reason if {
	count(data.engagement.marketing.text_patterns) > 0
	pattern := concat("", ["(?:", concat(")|(?:", data.engagement.marketing.text_patterns), ")"])
	regex.match(pattern, lower(input.reply.text))
	not _offer_solicited
	reason := _marketing_offer_reason
}

# METADATA
# title: Deny - marketing offer in a link
# description: |
#   Deny (marketing_offer) a reply with a link matching one of
#   data.engagement.marketing.link_patterns (sale, promo, coupon, deals pages), on the
#   same terms as the text check above.
deny_reasons contains reason if {
	count(input.reply.links) > 0
	count(data.engagement.marketing.link_patterns) > 0
	pattern := concat("", ["(?:", concat(")|(?:", data.engagement.marketing.link_patterns), ")"])
	regex.match(pattern, lower(concat(" ", input.reply.links)))
	not _offer_solicited
	reason := _marketing_offer_reason
}

# One reason for the text and the links alike, naming everything that made it an offer:
# the words each text pattern found, then each link a link pattern matched.
_marketing_offer_reason := {
	"code": "marketing_offer",
	"rule": "engagement.content.marketing_offer",
	"message": sprintf(
		"The reply contains a marketing offer (%s) and the customer did not ask for one.",
		[concat(", ", [part | some part in [_quoted(_offer_words), _quoted(_offer_links)]; part != ""])],
	),
}

_offer_words contains word if {
	text := lower(input.reply.text)
	some pattern in data.engagement.marketing.text_patterns
	some found in regex.find_n(pattern, text, -1)
	word := trim_space(found)
}

_offer_links contains link if {
	some link in input.reply.links
	some pattern in data.engagement.marketing.link_patterns
	regex.match(pattern, lower(link))
}

# The customer asked a question about prices or offers.
_offer_solicited if {
	input.mention.intent == "question"
	count(data.engagement.marketing.solicited_patterns) > 0
	pattern := concat("", ["(?:", concat(")|(?:", data.engagement.marketing.solicited_patterns), ")"])
	regex.match(pattern, lower(input.mention.text))
}

# METADATA
# title: Deny - personal data
# description: |
#   Deny (personal_data) a reply that would publish personal data (e-mail address, phone
#   number, card number, IBAN ... per data.engagement.personal_data.patterns) that the
#   customer did not write in the mention and that is not on
#   data.engagement.personal_data.allowlist (e.g. the brand's own support address).
#   Comparison ignores case, spaces, dots, dashes, "+" and parentheses, so a phone number
#   the customer wrote as "555 123 4567" may be echoed as "(555) 123-4567". The message
#   names the kind of data, never the data itself.
deny_reasons contains {"code": "personal_data", "rule": "engagement.content.personal_data", "message": message} if {
	# One combined regex first; the per-kind work runs only when something matched.
	patterns := [spec.pattern | some spec in data.engagement.personal_data.patterns]
	count(patterns) > 0
	regex.match(concat("", ["(?:", concat(")|(?:", patterns), ")"]), input.reply.text)
	kinds := _personal_data_kinds
	count(kinds) > 0
	labels := [data.engagement.personal_data.patterns[kind].label | some kind in sort(kinds)]
	message := sprintf(
		concat(" ", [
			"The reply contains personal data the customer did not share publicly (%s);",
			"remove it or move the conversation to a private channel.",
		]),
		[concat(", ", labels)],
	)
}

# The kinds of personal data in the reply that are neither in the mention nor allowlisted.
_personal_data_kinds contains kind if {
	mention_key := _pii_key(input.mention.text)
	some kind, spec in data.engagement.personal_data.patterns
	some found in regex.find_n(spec.pattern, input.reply.text, -1)
	key := _pii_key(found)
	not contains(mention_key, key)
	not _pii_allowed(key)
}

_pii_key(s) := regex.replace(lower(s), `[ \t\r\n().+-]+`, "")

_pii_allowed(key) if {
	some allowed in data.engagement.personal_data.allowlist
	_pii_key(allowed) == key
}

# METADATA
# title: Deny - too long (channel override)
# description: |
#   Deny (too_long) a reply longer than input.channel.max_length, when the gateway set one
#   for this channel (the channel publisher's own limit). input.reply.length counts in
#   input.channel.length_unit ("characters", or "graphemes" on Bluesky), and the message
#   names that unit: "501 characters (limit 500)".
deny_reasons contains reason if {
	limit := input.channel.max_length
	limit != null
	input.reply.length > limit
	reason := _too_long_reason("engagement.content.too_long", input.reply.length, _length_unit, limit)
}

# METADATA
# title: Deny - too long (data limits)
# description: |
#   Deny (too_long) a reply longer than data.engagement.channel_limits[channel name], or
#   channel_limits.default for a channel not listed, when input.channel.max_length is null
#   or absent.
deny_reasons contains reason if {
	object.get(input.channel, "max_length", null) == null
	limit := object.get(data.engagement.channel_limits, input.channel.name, data.engagement.channel_limits.default)
	input.reply.length > limit
	reason := _too_long_reason("engagement.content.too_long", input.reply.length, _length_unit, limit)
}

# METADATA
# title: Deny - too long in bytes
# description: |
#   Deny (too_long) a reply whose UTF-8 size (input.reply.bytes) is over the channel's
#   byte limit: input.channel.max_bytes when the gateway set one (Bluesky: 3,000 bytes,
#   whatever the grapheme count), else data.engagement.channel_byte_limits[channel name];
#   a channel in neither has no byte limit. The message says "3029 bytes (limit 3000)".
#   An input without reply.bytes (recorded before the gateway sent it) is not checked.
deny_reasons contains reason if {
	size := object.get(input.reply, "bytes", null)
	size != null
	limit := _byte_limit
	size > limit
	reason := _too_long_reason("engagement.content.too_long_bytes", size, "bytes", limit)
}

_byte_limit := limit if {
	limit := object.get(input.channel, "max_bytes", null)
	limit != null
} else := data.engagement.channel_byte_limits[input.channel.name]

_length_unit := object.get(input.channel, "length_unit", "characters")

_too_long_reason(rule, size, unit, limit) := {
	"code": "too_long",
	"rule": rule,
	"message": sprintf(
		"The reply is too long for %s: %v %s (limit %v). Shorten it.",
		[input.channel.name, size, unit, limit],
	),
}

# METADATA
# title: Review - legal language
# description: |
#   Review (legal_language) a conversation where one of data.engagement.legal_terms
#   (lawsuit, legal action, defamation, cease and desist ...) appears in the mention or in
#   the reply.
review_reasons contains {"code": "legal_language", "rule": "engagement.content.legal_language", "message": message} if {
	count(data.engagement.legal_terms) > 0
	text := _folded(concat("\n", [input.mention.text, input.reply.text]))
	found := regex.find_n(_terms_regex(data.engagement.legal_terms), text, -1)
	count(found) > 0
	message := sprintf(
		"Legal language appears in the conversation (%s); a compliance officer must check the reply before it is sent.",
		[_quoted_terms(found)],
	)
}
