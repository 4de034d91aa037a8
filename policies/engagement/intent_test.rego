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

# --- more than one intent (input.mention.intents, data.engagement.min_intent_score) ---

test_allow_other_primary_with_a_confident_complaint_among_intents if {
	inp := _input({"mention": {"intent": "praise", "intents": [
		{"intent": "praise", "score": 0.8},
		{"intent": "complaint", "score": 0.6},
	]}})
	not "intent_not_eligible" in _codes(_deny_for(inp, {}))
}

test_deny_when_the_eligible_intent_scores_below_the_threshold if {
	inp := _input({"mention": {"intent": "praise", "intents": [
		{"intent": "praise", "score": 0.8},
		{"intent": "question", "score": 0.4},
	]}})
	"intent_not_eligible" in _codes(_deny_for(inp, {}))
}

test_allow_threshold_comes_from_data if {
	inp := _input({"mention": {"intent": "praise", "intents": [
		{"intent": "praise", "score": 0.8},
		{"intent": "question", "score": 0.4},
	]}})
	not "intent_not_eligible" in _codes(_deny_for(inp, {"min_intent_score": 0.3}))
}

test_allow_threshold_is_inclusive if {
	inp := _input({"mention": {"intent": "other", "intents": [{"intent": "complaint", "score": 0.5}]}})
	not "intent_not_eligible" in _codes(_deny_for(inp, {}))
}

test_deny_praise_among_intents_counts_only_when_praise_is_allowed if {
	inp := _input({"mention": {"intent": "other", "intents": [{"intent": "praise", "score": 0.9}]}})
	"intent_not_eligible" in _codes(_deny_for(inp, {}))
	not "intent_not_eligible" in _codes(_deny_for(inp, {"allow_praise": true}))
}

test_allow_eligible_primary_intent_whatever_its_score if {
	inp := _input({"mention": {"intent": "question", "intents": [{"intent": "question", "score": 0.2}]}})
	not "intent_not_eligible" in _codes(_deny_for(inp, {}))
}

# --- languages the classifier does not read ---

test_review_language_unsupported_instead_of_deny if {
	inp := _input({"mention": {"intent": "unknown", "language": "it", "intents": []}})
	not "intent_not_eligible" in _codes(_deny_for(inp, {}))
	r := _reason(_review_for(inp, {}), "language_unsupported")
	r.rule == "engagement.intent.language_unsupported"
	r.message == "The mention is written in a language the classifier does not read (it); a reviewer decides whether to answer."
	d := _decision_for(inp, {})
	d.outcome == "review"
}

test_review_language_unsupported_when_language_undetermined if {
	inp := _input({"mention": {"intent": "unknown", "language": null}})
	r := _reason(_review_for(inp, {}), "language_unsupported")
	contains(r.message, "(undetermined)")
}

test_allow_supported_language_has_no_language_reason if {
	inp := _input({"mention": {"intent": "complaint", "language": "de"}})
	not "language_unsupported" in _codes(_review_for(inp, {}))
	_decision_for(inp, {}).outcome == "allow"
}

# --- an agent flagged the classified intent as wrong ---

test_review_intent_overridden_never_straight_out if {
	inp := _input({"mention": {"intent": "complaint", "flagged_intent": "question"}})
	r := _reason(_review_for(inp, {}), "intent_overridden")
	r.rule == "engagement.intent.overridden"
	r.message == `An agent flagged the classified intent "complaint" as wrong (they read "question"); a reviewer decides whether to answer.`
	_decision_for(inp, {}).outcome == "review"
}

test_review_flagged_other_goes_to_review_not_deny if {
	inp := _input({"mention": {"intent": "other", "flagged_intent": "complaint"}})
	not "intent_not_eligible" in _codes(_deny_for(inp, {}))
	d := _decision_for(inp, {})
	d.outcome == "review"
	[r.code | some r in d.reasons] == ["intent_overridden"]
}

test_allow_null_flag_is_no_flag if {
	inp := _input({"mention": {"flagged_intent": null}})
	not "intent_overridden" in _codes(_review_for(inp, {}))
}

test_deny_other_reasons_still_deny_a_flagged_mention if {
	inp := _input({"mention": {"intent": "other", "flagged_intent": "complaint"}, "customer": {"opted_out": true}})
	d := _decision_for(inp, {})
	d.outcome == "deny"
	[r.code | some r in d.reasons] == ["opted_out", "intent_overridden"]
}
