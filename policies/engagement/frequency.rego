# Frequency (part of package engagement): do not crowd a customer.
# Caps on replies per customer in the last 24 hours / 7 days / 30 days, and no further reply
# in a thread until the customer has answered our last one. Counts arrive in input.customer,
# computed by the gateway from stored replies (no clock is read here). A cap removed from
# data.engagement.caps is off.
package engagement

import rego.v1

# METADATA
# title: Customer caps reached
# description: |
#   The windows ("24h", "7d", "30d") in which the customer has already received as many
#   replies as data.engagement.caps.per_customer_<window> allows, so this reply would
#   exceed the cap (contacts >= cap).
customer_caps_reached contains "24h" if input.customer.contacts_24h >= data.engagement.caps.per_customer_24h

customer_caps_reached contains "7d" if input.customer.contacts_7d >= data.engagement.caps.per_customer_7d

customer_caps_reached contains "30d" if input.customer.contacts_30d >= data.engagement.caps.per_customer_30d

_window_labels := {"24h": "24 hours", "7d": "7 days", "30d": "30 days"}

# METADATA
# title: Thread unanswered
# description: |
#   True when we already replied in this thread (thread_replies >=
#   data.engagement.caps.per_thread_unanswered) and the customer has not posted in the
#   thread since our last reply (replied_since_last_contact is not true).
thread_unanswered if {
	input.customer.thread_replies >= data.engagement.caps.per_thread_unanswered
	input.customer.replied_since_last_contact != true
}

# METADATA
# title: Deny - per-customer cap
# description: Deny (frequency_cap) once for each window whose per-customer cap is reached.
deny_reasons contains {"code": "frequency_cap", "rule": rule, "message": message} if {
	some window in customer_caps_reached
	rule := concat("", ["engagement.frequency.per_customer_", window])
	message := sprintf(
		"The limit for replies to one customer in %s is %v and this customer already has %v. Wait before contacting them again.",
		[
			_window_labels[window],
			data.engagement.caps[concat("", ["per_customer_", window])],
			input.customer[concat("", ["contacts_", window])],
		],
	)
}

# METADATA
# title: Deny - unanswered thread
# description: Deny (frequency_cap) a further reply in a thread the customer has not answered.
deny_reasons contains {
	"code": "frequency_cap",
	"rule": "engagement.frequency.per_thread_unanswered",
	"message": "We already replied in this thread and the customer has not answered since; wait for them to respond.",
} if thread_unanswered
