# Frequency (part of package engagement): do not crowd a customer.
# Caps on replies per customer in the last 24 hours / 7 days / 30 days, and no further reply
# in a thread until the customer has answered our last one. Counts arrive in input.customer,
# computed by the gateway from stored replies (no clock is read here). A cap is reached
# when the customer already has as many replies as the cap allows (contacts >= cap): this
# reply would exceed it. A cap removed from data.engagement.caps is off.
package engagement

import rego.v1

# METADATA
# title: Deny - 24-hour cap
# description: Deny (frequency_cap) when input.customer.contacts_24h >= data.engagement.caps.per_customer_24h.
deny_reasons contains {
	"code": "frequency_cap",
	"rule": "engagement.frequency.per_customer_24h",
	"message": message,
} if {
	input.customer.contacts_24h >= data.engagement.caps.per_customer_24h
	message := _cap_message("24 hours", data.engagement.caps.per_customer_24h, input.customer.contacts_24h)
}

# METADATA
# title: Deny - 7-day cap
# description: Deny (frequency_cap) when input.customer.contacts_7d >= data.engagement.caps.per_customer_7d.
deny_reasons contains {
	"code": "frequency_cap",
	"rule": "engagement.frequency.per_customer_7d",
	"message": message,
} if {
	input.customer.contacts_7d >= data.engagement.caps.per_customer_7d
	message := _cap_message("7 days", data.engagement.caps.per_customer_7d, input.customer.contacts_7d)
}

# METADATA
# title: Deny - 30-day cap
# description: Deny (frequency_cap) when input.customer.contacts_30d >= data.engagement.caps.per_customer_30d.
deny_reasons contains {
	"code": "frequency_cap",
	"rule": "engagement.frequency.per_customer_30d",
	"message": message,
} if {
	input.customer.contacts_30d >= data.engagement.caps.per_customer_30d
	message := _cap_message("30 days", data.engagement.caps.per_customer_30d, input.customer.contacts_30d)
}

_cap_message(window, limit, contacts) := sprintf(
	concat(" ", [
		"The limit for replies to one customer in %s is %v and this customer already has %v.",
		"Wait before contacting them again.",
	]),
	[window, limit, contacts],
)

# METADATA
# title: Deny - unanswered thread
# description: |
#   Deny (frequency_cap) a further reply in a thread the customer has not answered: we
#   already replied there (input.customer.thread_replies >=
#   data.engagement.caps.per_thread_unanswered) and the customer has not posted in the
#   thread since our last reply (input.customer.replied_since_last_contact is not true).
deny_reasons contains {
	"code": "frequency_cap",
	"rule": "engagement.frequency.per_thread_unanswered",
	"message": "We already replied in this thread and the customer has not answered since; wait for them to respond.",
} if {
	input.customer.thread_replies >= data.engagement.caps.per_thread_unanswered
	input.customer.replied_since_last_contact != true
}
