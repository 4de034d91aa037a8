# Tests for intent.rego: complaints and questions; praise only when data allows it.
package engagement_test

import rego.v1

test_allow_complaint if {
	codes := _codes(_deny({"mention": {"intent": "complaint"}}))
	not "intent_not_eligible" in codes
}

test_allow_question if {
	codes := _codes(_deny({"mention": {"intent": "question"}}))
	not "intent_not_eligible" in codes
}

test_deny_praise_by_default if {
	r := _reason(_deny({"mention": {"intent": "praise"}}), "intent_not_eligible")
	r.rule == "engagement.intent.not_eligible"
	r.message == `The mention is classified as "praise"; the brand only replies to complaint, question.`
}

test_allow_praise_when_enabled_in_data if {
	inp := _input({"mention": {"intent": "praise"}})
	reasons := _deny_for(inp, {"allow_praise": true})
	not "intent_not_eligible" in _codes(reasons)
}

test_deny_other_intent if {
	"intent_not_eligible" in _codes(_deny({"mention": {"intent": "other"}}))
}

test_deny_other_intent_even_when_praise_enabled if {
	inp := _input({"mention": {"intent": "other"}})
	reasons := _deny_for(inp, {"allow_praise": true})
	"intent_not_eligible" in _codes(reasons)
}

test_deny_question_when_data_allows_only_complaints if {
	inp := _input({"mention": {"intent": "question"}})
	reasons := _deny_for(inp, {"eligible_intents": ["complaint"]})
	r := _reason(reasons, "intent_not_eligible")
	contains(r.message, "only replies to complaint.")
}

test_allow_other_when_listed_in_data if {
	inp := _input({"mention": {"intent": "other"}})
	reasons := _deny_for(inp, {"eligible_intents": ["complaint", "other"]})
	not "intent_not_eligible" in _codes(reasons)
}
