# METADATA
# description: |
#   Fixture for the policy engine's unit tests (not the shipped bundle): a few rules
#   shaped like the real ones, reasons collected as sets, deny beats review beats allow.
package engagement

# METADATA
# description: The one entrypoint the gateway evaluates.
decision := {"outcome": outcome, "reasons": deny | review}

outcome := "deny" if {
	count(deny) > 0
} else := "review" if {
	count(review) > 0
} else := "allow"

deny contains {
	"code": "opted_out",
	"message": "The customer opted out of replies.",
	"rule": "consent.opted_out",
} if input.customer.opted_out

deny contains {
	"code": "not_addressed",
	"message": "The customer did not address the brand.",
	"rule": "spoken_to.addressed",
} if not input.mention.addressed_brand

deny contains {
	"code": "contact_cap",
	"message": sprintf("Already %d contacts in 24 h.", [input.customer.contacts_24h]),
	"rule": "frequency.daily_cap",
} if input.customer.contacts_24h >= data.engagement.max_contacts_24h

deny contains {
	"code": "blocked_term",
	"message": sprintf("The reply uses the blocked term %q.", [term]),
	"rule": "content.blocked_terms",
} if {
	some term in data.engagement.blocked_terms
	contains(lower(input.reply.text), term)
}

review contains {
	"code": "ai_generated",
	"message": "AI-drafted replies are reviewed by a person.",
	"rule": "content.ai_generated",
} if input.reply.ai_generated
