# METADATA
# title: Engagement policy tests
# description: |
#   Unit tests for package engagement, one file per rule family beside the file it tests.
#   Tests start from a complete, clean input (_base_input below) and change only what they
#   test. test_allow_* checks a reason is not raised, test_deny_* / test_review_* that it is.
#   Every test pins the tunables it depends on (_test_tunables below, through _deny,
#   _review and _decision), so data.json can be tuned without rewriting a test; only the
#   test_allow_data_* tests (text_test.rego) read the shipped data, to check its format.
#   Run them with `python -m gateway policy test`.
package engagement_test

import rego.v1

# The tunables the tests rely on, pinned here (the values shipped when the tests were
# written) so a compliance officer's edit of data.json never fails a test:
# tests/unit/policy/test_policy_tunables.py raises every number in data.json by one and
# runs these tests. Term lists hold the terms the tests use; the patterns are those
# shipped when the tests were written (test_allow_data_* checks the shipped ones compile,
# and the differential test runs them on both engines). A test that needs other
# values passes them to _deny_for / _review_for / _decision_for, replacing these keys.
_test_tunables := {
	"eligible_intents": ["complaint", "question"],
	"allow_praise": false,
	"min_intent_score": 0.5,
	"caps": {"per_customer_24h": 3, "per_customer_7d": 6, "per_customer_30d": 15, "per_thread_unanswered": 1},
	"channel_limits": {"bluesky": 300, "demo": 500, "mastodon": 500, "webhook": 2000, "default": 1000},
	"channel_byte_limits": {"bluesky": 3000},
	"reason_order": [
		"opted_out", "nobot", "possible_opt_out", "author_is_bot",
		"not_addressed", "intent_not_eligible", "language_unsupported", "intent_overridden",
		"frequency_cap",
		"blocked_term", "marketing_offer", "personal_data", "too_long",
		"legal_language", "sensitive_topic", "ai_generated",
	],
	"nobot_markers": ["#nobot", "#noai", "#nobots"],
	"blocked_terms": ["idiot", "idiots", "stupid", "dumb", "calm down", "crap", "not our problem"],
	"legal_terms": ["sue", "court", "lawyer", "lawyers", "legal action", "cease and desist"],
	"bots": {"action": "deny"},
	"sensitive_topics": {
		"crisis": ["self harm"],
		"finance": ["invest", "crypto", "loan", "pension", "stock market"],
		"health": ["health", "medication", "doctor", "side effect", "side effects"],
	},
	"marketing": {
		"text_patterns": [
			`\bdiscount(s|ed)?\b`,
			`\bpromo(tion(al)?)?[\s\x{00A0}\x{2007}\x{202F}]*codes?\b`,
			`\bpromos?\b`,
			`\bcoupons?\b`,
			`\bvouchers?\b`,
			`[0-9]+[\s\x{00A0}\x{2007}\x{202F}]*(%|percent)[\s\x{00A0}\x{2007}\x{202F}]*off\b`,
			`\buse (the )?code\b`,
			`\b(limited[- ]time|special|exclusive) (offer|deal)s?\b`,
			`\bon sale\b`,
			`\b(big|flash|summer|winter|spring|holiday|black friday|clearance) sale\b`,
			`\b(buy|shop|order) (now|today)\b`,
		],
		"link_patterns": [
			`[/._?=&#-](sales?|promos?|promotions?|coupons?|discounts?|vouchers?|deals?|offers?)([/._?=&#-]|$)`,
		],
		"solicited_patterns": [
			`\bprices?\b`,
			`\bpricing\b`,
			`\bcosts?\b`,
			`\bhow much\b`,
			`\bcheaper\b`,
			`\bdiscount(s|ed)?\b`,
			`\bpromo(tion)?\b`,
			`\bcoupons?\b`,
			`\bvouchers?\b`,
			`\bdeals?\b`,
			`\boffers?\b`,
			`\bsale\b`,
		],
	},
	"personal_data": {
		"patterns": {
			"card_number": {"label": "a payment card number", "pattern": `\b[0-9](?:[ -]?[0-9]){12,18}\b`},
			"email": {"label": "an e-mail address", "pattern": `(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b`},
			"iban": {"label": "a bank account number (IBAN)", "pattern": `\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b`},
			"phone": {"label": "a phone number", "pattern": `(?:\+[0-9]{1,3}[ .-]?)?\(?\b[0-9]{2,4}\)?[ .-][0-9]{3,4}[ .-][0-9]{3,4}\b|\+[0-9]{8,15}\b`},
			"us_ssn": {"label": "a social security number", "pattern": `\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b`},
		},
		"allowlist": [],
	},
}

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
		"bytes": 87,
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
	"channel": {"name": "mastodon", "max_length": null, "length_unit": "characters", "max_bytes": null},
	"now": "2025-03-01T10:05:00Z",
}

# _base_input with patch merged in (objects merge recursively, other values replace).
_input(patch) := object.union(_base_input, patch)

_codes(reasons) := {r.code | some r in reasons}

_rules(reasons) := {r.rule | some r in reasons}

# The deny / review reasons and the decision for _input(patch), at _test_tunables.
_deny(patch) := _deny_for(_input(patch), {})

_review(patch) := _review_for(_input(patch), {})

_decision(patch) := _decision_for(_input(patch), {})

# The same for a whole input, at _test_tunables with the keys of tunables replaced.
_deny_for(inp, tunables) := reasons if {
	t := object.union(object.remove(_test_tunables, object.keys(tunables)), tunables)
	reasons := data.engagement.deny_reasons with input as inp
		with data.engagement.eligible_intents as t.eligible_intents
		with data.engagement.allow_praise as t.allow_praise
		with data.engagement.min_intent_score as t.min_intent_score
		with data.engagement.caps as t.caps
		with data.engagement.channel_limits as t.channel_limits
		with data.engagement.channel_byte_limits as t.channel_byte_limits
		with data.engagement.reason_order as t.reason_order
		with data.engagement.nobot_markers as t.nobot_markers
		with data.engagement.blocked_terms as t.blocked_terms
		with data.engagement.legal_terms as t.legal_terms
		with data.engagement.sensitive_topics as t.sensitive_topics
		with data.engagement.bots as t.bots
		with data.engagement.marketing as t.marketing
		with data.engagement.personal_data as t.personal_data
}

_review_for(inp, tunables) := reasons if {
	t := object.union(object.remove(_test_tunables, object.keys(tunables)), tunables)
	reasons := data.engagement.review_reasons with input as inp
		with data.engagement.eligible_intents as t.eligible_intents
		with data.engagement.allow_praise as t.allow_praise
		with data.engagement.min_intent_score as t.min_intent_score
		with data.engagement.caps as t.caps
		with data.engagement.channel_limits as t.channel_limits
		with data.engagement.channel_byte_limits as t.channel_byte_limits
		with data.engagement.reason_order as t.reason_order
		with data.engagement.nobot_markers as t.nobot_markers
		with data.engagement.blocked_terms as t.blocked_terms
		with data.engagement.legal_terms as t.legal_terms
		with data.engagement.sensitive_topics as t.sensitive_topics
		with data.engagement.bots as t.bots
		with data.engagement.marketing as t.marketing
		with data.engagement.personal_data as t.personal_data
}

_decision_for(inp, tunables) := d if {
	t := object.union(object.remove(_test_tunables, object.keys(tunables)), tunables)
	d := data.engagement.decision with input as inp
		with data.engagement.eligible_intents as t.eligible_intents
		with data.engagement.allow_praise as t.allow_praise
		with data.engagement.min_intent_score as t.min_intent_score
		with data.engagement.caps as t.caps
		with data.engagement.channel_limits as t.channel_limits
		with data.engagement.channel_byte_limits as t.channel_byte_limits
		with data.engagement.reason_order as t.reason_order
		with data.engagement.nobot_markers as t.nobot_markers
		with data.engagement.blocked_terms as t.blocked_terms
		with data.engagement.legal_terms as t.legal_terms
		with data.engagement.sensitive_topics as t.sensitive_topics
		with data.engagement.bots as t.bots
		with data.engagement.marketing as t.marketing
		with data.engagement.personal_data as t.personal_data
}

# The one reason with this code (tests use it where exactly one is expected).
_reason(reasons, code) := r if {
	[r] := [x | some x in reasons; x.code == code]
}

test_allow_clean_complaint_reply if {
	d := _decision({})
	d == {"outcome": "allow", "reasons": []}
}

test_allow_clean_question_reply if {
	inp := _input({"mention": {"intent": "question", "text": "@brand when does the new store open?"}})
	d := _decision_for(inp, {})
	d == {"outcome": "allow", "reasons": []}
}

test_allow_optional_fields_absent if {
	# Fields with a default in PolicyInput may be left out of input.
	inp := json.remove(_base_input, [
		"action", "mention/author/display_name", "mention/author/description", "mention/author/bot",
		"mention/visibility", "mention/is_direct", "reply/ai_generated", "reply/bytes",
		"channel/max_length", "channel/length_unit", "channel/max_bytes",
	])
	d := _decision_for(inp, {})
	d.outcome == "allow"
}

test_allow_decision_ignores_now if {
	inp := _input({"now": "2031-12-31T23:59:59Z"})
	d := _decision_for(inp, {})
	d == {"outcome": "allow", "reasons": []}
}

test_deny_with_review_reasons_listed_too if {
	inp := _input({"customer": {"opted_out": true}, "reply": {"ai_generated": true}})
	d := _decision_for(inp, {})
	d.outcome == "deny"
	[r.code | some r in d.reasons] == ["opted_out", "ai_generated"]
	_reason(d.reasons, "ai_generated").rule == "engagement.ai.ai_generated"
	_reason(d.reasons, "opted_out").rule == "engagement.consent.opted_out"
}

test_review_when_only_review_reasons if {
	inp := _input({"reply": {"ai_generated": true}})
	d := _decision_for(inp, {})
	d.outcome == "review"
	[r.code | some r in d.reasons] == ["ai_generated"]
}

# --- reason order: most final first (data.engagement.reason_order) ---

test_deny_opted_out_listed_before_intent_not_eligible if {
	inp := _input({"mention": {"intent": "praise"}, "customer": {"opted_out": true}})
	d := _decision_for(inp, {})
	d.outcome == "deny"
	[r.code | some r in d.reasons] == ["opted_out", "intent_not_eligible"]
}

test_review_reasons_sorted_by_finality if {
	inp := _input({
		"mention": {"text": "@brand your pills sent me to the doctor, my lawyer will hear about this"},
		"reply": {"ai_generated": true},
	})
	d := _decision_for(inp, {})
	d.outcome == "review"
	[r.code | some r in d.reasons] == ["legal_language", "sensitive_topic", "ai_generated"]
}

test_deny_reasons_sorted_by_finality_then_rule if {
	inp := _input({
		"mention": {"intent": "praise"},
		"customer": {"contacts_24h": 5, "contacts_7d": 6, "thread_replies": 1},
	})
	d := _decision_for(inp, {})
	d.outcome == "deny"
	[[r.code, r.rule] | some r in d.reasons] == [
		["intent_not_eligible", "engagement.intent.not_eligible"],
		["frequency_cap", "engagement.frequency.per_customer_24h"],
		["frequency_cap", "engagement.frequency.per_customer_7d"],
		["frequency_cap", "engagement.frequency.per_thread_unanswered"],
	]
}

test_deny_reasons_consent_eligibility_caps_content_then_review if {
	inp := _input({
		"mention": {"addressed_brand": false, "intent": "other", "text": "@brand broken again #nobot"},
		"reply": {
			"text": "Calm down, email me at joe@example.net for 20% off",
			"length": 2000, "ai_generated": true,
		},
		"customer": {"opted_out": true, "contacts_24h": 3},
	})
	d := _decision_for(inp, {})
	d.outcome == "deny"
	[r.code | some r in d.reasons] == [
		"opted_out", "nobot", "not_addressed", "intent_not_eligible", "frequency_cap",
		"blocked_term", "marketing_offer", "personal_data", "too_long", "ai_generated",
	]
}

# Reasons other helpers' rules add (and any code not in reason_order) have their place too.
test_deny_consent_signals_first_unknown_codes_last if {
	deny := {
		_fake_reason("zz_new_deny"), _fake_reason("aa_new_deny"), _fake_reason("not_addressed"),
		_fake_reason("author_is_bot"), _fake_reason("too_long"),
	}
	review := {_fake_reason("ai_generated"), _fake_reason("possible_opt_out"), _fake_reason("a_new_review")}
	d := _decision({}) with data.engagement.deny_reasons as deny with data.engagement.review_reasons as review
	[r.code | some r in d.reasons] == [
		"author_is_bot", "not_addressed", "too_long", "aa_new_deny", "zz_new_deny",
		"possible_opt_out", "ai_generated", "a_new_review",
	]
}

test_review_possible_opt_out_listed_first_among_review_reasons if {
	review := {_fake_reason("sensitive_topic"), _fake_reason("possible_opt_out"), _fake_reason("legal_language")}
	d := _decision({}) with data.engagement.review_reasons as review
	d.outcome == "review"
	[r.code | some r in d.reasons] == ["possible_opt_out", "legal_language", "sensitive_topic"]
}

test_deny_order_ties_broken_by_rule_then_message if {
	deny := {
		{"code": "frequency_cap", "rule": "engagement.b", "message": "m"},
		{"code": "frequency_cap", "rule": "engagement.a", "message": "z"},
		{"code": "frequency_cap", "rule": "engagement.a", "message": "y"},
	}
	d := _decision({}) with data.engagement.deny_reasons as deny
	[[r.rule, r.message] | some r in d.reasons] == [["engagement.a", "y"], ["engagement.a", "z"], ["engagement.b", "m"]]
}

test_deny_order_comes_from_data if {
	inp := _input({"mention": {"intent": "praise"}, "customer": {"opted_out": true}})
	d := _decision_for(inp, {"reason_order": ["intent_not_eligible", "opted_out"]})
	[r.code | some r in d.reasons] == ["intent_not_eligible", "opted_out"]
}

test_deny_without_reason_order_sorted_by_code if {
	inp := _input({"mention": {"intent": "praise"}, "customer": {"opted_out": true}})
	d := _decision_for(inp, {"reason_order": []})
	[r.code | some r in d.reasons] == ["intent_not_eligible", "opted_out"]
}

test_deny_reason_in_both_sets_listed_once if {
	both := {_fake_reason("opted_out")}
	d := _decision({}) with data.engagement.deny_reasons as both with data.engagement.review_reasons as both
	d.outcome == "deny"
	[r.code | some r in d.reasons] == ["opted_out"]
}

_fake_reason(code) := {"code": code, "rule": concat(".", ["engagement.test", code]), "message": "m"}

test_deny_every_reason_has_code_message_and_rule if {
	inp := _input({
		"mention": {"addressed_brand": false, "intent": "other"},
		"reply": {"text": "Calm down, email me at joe@example.net", "length": 2000, "ai_generated": true},
		"customer": {"opted_out": true},
	})
	d := _decision_for(inp, {})
	d.outcome == "deny"
	[r.code | some r in d.reasons] == [
		"opted_out", "not_addressed", "intent_not_eligible",
		"blocked_term", "personal_data", "too_long", "ai_generated",
	]
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
	not _decision_for(inp, {})
}

test_deny_when_input_lacks_addressed_brand if {
	inp := json.remove(_base_input, ["mention/addressed_brand"])
	not _decision_for(inp, {})
}

test_deny_when_input_lacks_contact_counts if {
	inp := json.remove(_base_input, ["customer/contacts_7d"])
	not _decision_for(inp, {})
}

test_deny_when_action_is_not_reply if {
	inp := _input({"action": "direct_message"})
	not _decision_for(inp, {})
}
