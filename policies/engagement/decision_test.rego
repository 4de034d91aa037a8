# METADATA
# title: Engagement policy tests
# description: |
#   Unit tests for package engagement, one file per rule family beside the file it tests.
#   Tests start from a complete, clean input (_base_input below) and change only what they
#   test. test_allow_* checks a reason is not raised, test_deny_* / test_review_* that it is.
#   Run them with `python -m gateway policy test`.
package engagement_test

import rego.v1

# A complete input that the default policy allows: a customer's complaint addressed to the
# brand, answered politely by a person, first contact in days.
_base_input := {
	"action": "reply",
	"mention": {
		"id": 42,
		"channel": "mastodon",
		"author": {"handle": "@ann@example.social", "display_name": "Ann", "bot": false, "description": "Cyclist."},
		"text": "@brand my order arrived broken and nobody answers the phone. What is the issue?",
		"intent": "complaint",
		"sentiment": -0.6,
		"addressed_brand": true,
		"thread": {"id": "thread-1", "in_reply_to": null},
		"created_at": "2025-03-01T10:00:00Z",
		"visibility": "public",
		"is_direct": false,
	},
	"reply": {
		"text": "Sorry about that, Ann. We are sending a replacement today and will follow up by Friday.",
		"length": 87,
		"links": [],
		"ai_generated": false,
	},
	"agent": {"id": "agent-7", "roles": ["agent"]},
	"customer": {
		"opted_out": false,
		"contacts_24h": 0,
		"contacts_7d": 0,
		"contacts_30d": 0,
		"last_contact_at": null,
		"thread_replies": 0,
		"replied_since_last_contact": false,
	},
	"channel": {"name": "mastodon", "max_length": null},
	"now": "2025-03-01T10:05:00Z",
}

# _base_input with patch merged in (objects merge recursively, other values replace).
_input(patch) := object.union(_base_input, patch)

_codes(reasons) := {r.code | some r in reasons}

_rules(reasons) := {r.rule | some r in reasons}

# The deny / review reasons the policy raises for _input(patch).
_deny(patch) := reasons if {
	inp := _input(patch)
	reasons := data.engagement.deny_reasons with input as inp
}

_review(patch) := reasons if {
	inp := _input(patch)
	reasons := data.engagement.review_reasons with input as inp
}

# The one reason with this code (tests use it where exactly one is expected).
_reason(reasons, code) := r if {
	[r] := [x | some x in reasons; x.code == code]
}

test_allow_clean_complaint_reply if {
	d := data.engagement.decision with input as _base_input
	d == {"outcome": "allow", "reasons": []}
}

test_allow_clean_question_reply if {
	inp := _input({"mention": {"intent": "question", "text": "@brand when does the new store open?"}})
	d := data.engagement.decision with input as inp
	d == {"outcome": "allow", "reasons": []}
}

test_allow_optional_fields_absent if {
	# Fields with a default in PolicyInput may be left out of input.
	inp := json.remove(_base_input, [
		"action", "mention/author/display_name", "mention/author/description", "mention/author/bot",
		"mention/visibility", "mention/is_direct", "reply/ai_generated", "channel/max_length",
	])
	d := data.engagement.decision with input as inp
	d.outcome == "allow"
}

test_allow_decision_ignores_now if {
	inp := _input({"now": "2031-12-31T23:59:59Z"})
	d := data.engagement.decision with input as inp
	d == {"outcome": "allow", "reasons": []}
}

test_deny_with_review_reasons_listed_too if {
	inp := _input({"customer": {"opted_out": true}, "reply": {"ai_generated": true}})
	d := data.engagement.decision with input as inp
	d.outcome == "deny"
	[r.code | some r in d.reasons] == ["ai_generated", "opted_out"]
	_reason(d.reasons, "ai_generated").rule == "engagement.ai.ai_generated"
	_reason(d.reasons, "opted_out").rule == "engagement.consent.opted_out"
}

test_review_when_only_review_reasons if {
	inp := _input({"reply": {"ai_generated": true}})
	d := data.engagement.decision with input as inp
	d.outcome == "review"
	[r.code | some r in d.reasons] == ["ai_generated"]
}

test_review_reasons_sorted_by_code if {
	inp := _input({
		"mention": {"text": "@brand your pills sent me to the doctor, my lawyer will hear about this"},
		"reply": {"ai_generated": true},
	})
	d := data.engagement.decision with input as inp
	d.outcome == "review"
	[r.code | some r in d.reasons] == ["ai_generated", "legal_language", "sensitive_topic"]
}

test_deny_reasons_sorted_by_code_then_rule if {
	inp := _input({
		"mention": {"intent": "praise"},
		"customer": {"contacts_24h": 5, "contacts_7d": 6, "thread_replies": 1},
	})
	d := data.engagement.decision with input as inp
	d.outcome == "deny"
	[[r.code, r.rule] | some r in d.reasons] == [
		["frequency_cap", "engagement.frequency.per_customer_24h"],
		["frequency_cap", "engagement.frequency.per_customer_7d"],
		["frequency_cap", "engagement.frequency.per_thread_unanswered"],
		["intent_not_eligible", "engagement.intent.not_eligible"],
	]
}

test_deny_every_reason_has_code_message_and_rule if {
	inp := _input({
		"mention": {"addressed_brand": false, "intent": "other"},
		"reply": {"text": "Calm down, email me at joe@example.net", "length": 2000, "ai_generated": true},
		"customer": {"opted_out": true},
	})
	d := data.engagement.decision with input as inp
	d.outcome == "deny"
	count(d.reasons) == 7
	every r in d.reasons {
		object.keys(r) == {"code", "message", "rule"}
		startswith(r.rule, "engagement.")
		r.message != ""
	}
}

test_deny_outcome_when_any_deny_reason if {
	deny := {{"code": "x", "message": "m", "rule": "engagement.x"}}
	review := {{"code": "y", "message": "m", "rule": "engagement.y"}}
	data.engagement.outcome == "deny" with data.engagement.deny_reasons as deny
		with data.engagement.review_reasons as review
}

test_review_outcome_when_only_review_reasons if {
	review := {{"code": "y", "message": "m", "rule": "engagement.y"}}
	data.engagement.outcome == "review" with data.engagement.deny_reasons as set()
		with data.engagement.review_reasons as review
}

test_allow_outcome_when_no_reasons if {
	data.engagement.outcome == "allow" with data.engagement.deny_reasons as set()
		with data.engagement.review_reasons as set()
}

# An incomplete input leaves the decision undefined; the gateway denies (fail closed).
test_deny_when_input_lacks_customer if {
	inp := object.remove(_base_input, ["customer"])
	not data.engagement.decision with input as inp
}

test_deny_when_input_lacks_addressed_brand if {
	inp := json.remove(_base_input, ["mention/addressed_brand"])
	not data.engagement.decision with input as inp
}

test_deny_when_input_lacks_contact_counts if {
	inp := json.remove(_base_input, ["customer/contacts_7d"])
	not data.engagement.decision with input as inp
}

test_deny_when_action_is_not_reply if {
	inp := _input({"action": "direct_message"})
	not data.engagement.decision with input as inp
}
