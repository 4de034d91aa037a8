# Content (part of package engagement): what the reply itself says.
# Blocked wording, unsolicited marketing offers, personal data the customer did not share,
# replies too long for the channel (all deny), and legal language in the conversation
# (review).
package engagement

import rego.v1

# METADATA
# title: Blocked terms found
# description: |
#   The terms of data.engagement.blocked_terms found in the reply text, case-insensitively
#   and as whole words (see text.rego).
blocked_terms_found := _terms_in(_reply_lower, data.engagement.blocked_terms)

# METADATA
# title: Deny - blocked term
# description: Deny (blocked_term) a reply containing wording the brand never uses.
deny_reasons contains {"code": "blocked_term", "rule": "engagement.content.blocked_term", "message": message} if {
	count(blocked_terms_found) > 0
	message := sprintf("The reply contains blocked wording (%s); rephrase it.", [_quoted(blocked_terms_found)])
}

# METADATA
# title: Marketing offer in reply
# description: |
#   True when the lowercased reply text matches one of
#   data.engagement.marketing.text_patterns (discounts, promo codes, "% off", coupons ...)
#   or one of its links matches data.engagement.marketing.link_patterns (sale or promo
#   pages). Patterns are RE2 regexes written in lowercase.
marketing_offer_in_reply if {
	count(data.engagement.marketing.text_patterns) > 0
	regex.match(_any_of(data.engagement.marketing.text_patterns), _reply_lower)
}

marketing_offer_in_reply if {
	count(input.reply.links) > 0
	count(data.engagement.marketing.link_patterns) > 0
	regex.match(_any_of(data.engagement.marketing.link_patterns), lower(concat(" ", input.reply.links)))
}

# METADATA
# title: Offer solicited
# description: |
#   True when the customer asked about prices or offers, i.e. the mention's intent is
#   "question" AND its lowercased text matches one of
#   data.engagement.marketing.solicited_patterns (price, cost, discount, promo, coupon,
#   deal, offer, sale ...). Every other reply counts as unsolicited, including a reply to a
#   complaint that mentions a price, because answering a complaint with a coupon is
#   marketing the customer did not ask for.
offer_solicited if {
	input.mention.intent == "question"
	count(data.engagement.marketing.solicited_patterns) > 0
	regex.match(_any_of(data.engagement.marketing.solicited_patterns), _mention_lower)
}

# METADATA
# title: Deny - marketing offer
# description: |
#   Deny (marketing_offer) a reply that contains a marketing offer (discount, promo code,
#   "% off", coupon, sale link) unless offer_solicited (the customer asked a question about
#   prices or offers). Every reply is treated as unsolicited otherwise.
deny_reasons contains {
	"code": "marketing_offer",
	"rule": "engagement.content.marketing_offer",
	"message": "The reply contains a marketing offer (discount, promo code or sale link) and the customer did not ask for one.",
} if {
	marketing_offer_in_reply
	not offer_solicited
}

# METADATA
# title: Personal data found
# description: |
#   The kinds (keys of data.engagement.personal_data.patterns - email, phone, card_number,
#   iban, us_ssn) of personal data in the reply that the customer did not write in the
#   mention and that are not on data.engagement.personal_data.allowlist (e.g. the brand's
#   own support address). Comparison ignores case, spaces, dots, dashes, "+" and
#   parentheses, so a phone number the customer wrote as "555 123 4567" may be echoed as
#   "555-123-4567".
personal_data_found contains kind if {
	_personal_data_suspected
	some kind, spec in data.engagement.personal_data.patterns
	some found in regex.find_n(spec.pattern, input.reply.text, -1)
	key := _pii_key(found)
	not contains(_mention_pii_key, key)
	not _pii_allowed(key)
}

# One combined regex first: the per-kind work above runs only when something matched.
_personal_data_suspected if {
	patterns := [spec.pattern | some spec in data.engagement.personal_data.patterns]
	count(patterns) > 0
	regex.match(_any_of(patterns), input.reply.text)
}

_pii_key(s) := regex.replace(lower(s), `[ \t\r\n().+-]+`, "")

_mention_pii_key := _pii_key(input.mention.text)

_pii_allowed(key) if {
	some allowed in data.engagement.personal_data.allowlist
	_pii_key(allowed) == key
}

# METADATA
# title: Deny - personal data
# description: |
#   Deny (personal_data) a reply that would publish personal data (e-mail address, phone
#   number, card number, IBAN ...) the customer did not share in the mention. The message
#   names the kind of data, never the data itself.
deny_reasons contains {"code": "personal_data", "rule": "engagement.content.personal_data", "message": message} if {
	count(personal_data_found) > 0
	labels := [data.engagement.personal_data.patterns[kind].label | some kind in sort(personal_data_found)]
	message := sprintf(
		"The reply contains personal data the customer did not share publicly (%s); remove it or move the conversation to a private channel.",
		[concat(", ", labels)],
	)
}

# METADATA
# title: Maximum reply length
# description: |
#   The longest reply the channel accepts, in characters - input.channel.max_length when
#   set, else data.engagement.channel_limits[channel name], else channel_limits.default.
max_reply_length := input.channel.max_length if {
	input.channel.max_length != null
} else := limit if {
	# max_length is null or absent (PolicyInput's default).
	limit := object.get(data.engagement.channel_limits, input.channel.name, data.engagement.channel_limits.default)
}

# METADATA
# title: Deny - too long
# description: Deny (too_long) a reply longer than max_reply_length (input.reply.length, in characters).
deny_reasons contains {"code": "too_long", "rule": "engagement.content.too_long", "message": message} if {
	input.reply.length > max_reply_length
	message := sprintf(
		"The reply is %v characters long; %s accepts at most %v. Shorten it.",
		[input.reply.length, input.channel.name, max_reply_length],
	)
}

# METADATA
# title: Legal terms found
# description: |
#   The terms of data.engagement.legal_terms (lawsuit, legal action, defamation, cease and
#   desist ...) found in the mention or in the reply, as whole words, case-insensitively.
legal_terms_found := _terms_in(_conversation_lower, data.engagement.legal_terms)

# METADATA
# title: Review - legal language
# description: Review (legal_language) a conversation where legal language appears in the mention or the reply.
review_reasons contains {"code": "legal_language", "rule": "engagement.content.legal_language", "message": message} if {
	count(legal_terms_found) > 0
	message := sprintf(
		"Legal language appears in the conversation (%s); a compliance officer must check the reply before it is sent.",
		[_quoted(legal_terms_found)],
	)
}
