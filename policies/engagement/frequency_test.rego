# Tests for frequency.rego: per-customer caps (24 h / 7 d / 30 d) and unanswered threads.
# The rule logic is tested at fixed caps (_test_tunables.caps in decision_test.rego: 3 per
# 24 h, 6 per 7 d, 15 per 30 d, 1 reply per unanswered thread), so a compliance officer
# can tune the caps in data.json without rewriting these tests; impact analysis shows
# what a new cap changes.
package engagement_test

import rego.v1

test_allow_below_24h_cap if {
	codes := _codes(_deny({"customer": {"contacts_24h": 2, "contacts_7d": 2, "contacts_30d": 2}}))
	not "frequency_cap" in codes
}

test_deny_exactly_at_24h_cap if {
	reasons := _deny({"customer": {"contacts_24h": 3, "contacts_7d": 3, "contacts_30d": 3}})
	_rules(reasons) & {r | some r in _frequency_rules} == {"engagement.frequency.per_customer_24h"}
	r := _reason(reasons, "frequency_cap")
	r.message == concat(" ", [
		"The limit for replies to one customer in 24 hours is 3 and this customer already has 3.",
		"Wait before contacting them again.",
	])
}

test_deny_above_24h_cap if {
	"engagement.frequency.per_customer_24h" in _rules(_deny({"customer": {"contacts_24h": 4, "contacts_7d": 4}}))
}

test_allow_below_7d_cap if {
	rules := _rules(_deny({"customer": {"contacts_7d": 5}}))
	not "engagement.frequency.per_customer_7d" in rules
}

test_deny_exactly_at_7d_cap if {
	"engagement.frequency.per_customer_7d" in _rules(_deny({"customer": {"contacts_7d": 6}}))
}

test_allow_below_30d_cap if {
	rules := _rules(_deny({"customer": {"contacts_30d": 14}}))
	not "engagement.frequency.per_customer_30d" in rules
}

test_deny_exactly_at_30d_cap if {
	"engagement.frequency.per_customer_30d" in _rules(_deny({"customer": {"contacts_30d": 15}}))
}

test_deny_one_reason_per_window_reached if {
	reasons := _deny({"customer": {"contacts_24h": 3, "contacts_7d": 7, "contacts_30d": 15}})
	_rules(reasons) & {r | some r in _frequency_rules} == {
		"engagement.frequency.per_customer_24h",
		"engagement.frequency.per_customer_7d",
		"engagement.frequency.per_customer_30d",
	}
}

test_deny_cap_from_data if {
	inp := _input({"customer": {"contacts_24h": 1}})
	reasons := _deny_for(inp, {"caps": object.union(_test_tunables.caps, {"per_customer_24h": 1})})
	"engagement.frequency.per_customer_24h" in _rules(reasons)
}

test_allow_cap_removed_from_data if {
	inp := _input({"customer": {"contacts_30d": 99}})
	reasons := _deny_for(inp, {"caps": object.remove(_test_tunables.caps, ["per_customer_30d"])})
	not "frequency_cap" in _codes(reasons)
}

test_allow_first_reply_in_thread if {
	rules := _rules(_deny({"customer": {"thread_replies": 0}}))
	not "engagement.frequency.per_thread_unanswered" in rules
}

test_deny_second_reply_in_unanswered_thread if {
	reasons := _deny({"customer": {"thread_replies": 1, "replied_since_last_contact": false}})
	"engagement.frequency.per_thread_unanswered" in _rules(reasons)
}

test_allow_follow_up_after_customer_answered if {
	reasons := _deny({"customer": {"thread_replies": 1, "replied_since_last_contact": true}})
	not "frequency_cap" in _codes(reasons)
}

test_allow_second_reply_when_thread_cap_raised if {
	inp := _input({"customer": {"thread_replies": 1}})
	reasons := _deny_for(inp, {"caps": object.union(_test_tunables.caps, {"per_thread_unanswered": 2})})
	not "frequency_cap" in _codes(reasons)
}

_frequency_rules := [
	"engagement.frequency.per_customer_24h",
	"engagement.frequency.per_customer_7d",
	"engagement.frequency.per_customer_30d",
	"engagement.frequency.per_thread_unanswered",
]
