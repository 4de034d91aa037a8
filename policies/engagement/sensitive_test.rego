# Tests for sensitive.rego: health, finance and crisis topics go to review.
package engagement_test

import rego.v1

test_allow_ordinary_complaint if {
	codes := _codes(_review({}))
	not "sensitive_topic" in codes
}

test_allow_out_of_stock_is_not_finance if {
	codes := _codes(_review({"mention": {"text": "@brand the blue one is out of stock again"}}))
	not "sensitive_topic" in codes
}

test_allow_sensitive_term_inside_other_words if {
	codes := _codes(_review({"mention": {"text": "@brand the loaned charger works, my pensioner dad is healthy"}}))
	not "sensitive_topic" in codes
}

test_review_health_term_in_mention if {
	r := _reason(_review({"mention": {"text": "@brand the Medication label was wrong"}}), "sensitive_topic")
	r.rule == "engagement.sensitive.sensitive_topic"
	contains(r.message, `health: "medication"`)
	codes := _codes(_deny({"mention": {"text": "@brand the Medication label was wrong"}}))
	not "sensitive_topic" in codes
}

test_review_finance_term_in_reply if {
	r := _reason(_review({"reply": {"text": "We cannot offer a loan, sorry."}}), "sensitive_topic")
	contains(r.message, `finance: "loan"`)
}

test_review_lists_each_topic_sorted if {
	inp := {"mention": {"text": "@brand my doctor says I should not invest in your crypto coin"}}
	r := _reason(_review(inp), "sensitive_topic")
	contains(r.message, `(finance: "crypto", "invest"; health: "doctor")`)
}

test_review_multi_word_term if {
	"sensitive_topic" in _codes(_review({"mention": {"text": "@brand any side-effects?"}}))
}

test_review_topic_from_data if {
	inp := _input({"mention": {"text": "@brand is this part of the recall?"}})
	reasons := _review_for(inp, {"sensitive_topics": {"safety": ["recall"]}})
	r := _reason(reasons, "sensitive_topic")
	contains(r.message, `safety: "recall"`)
}

test_allow_when_topics_empty if {
	inp := _input({"mention": {"text": "@brand my doctor said so"}})
	reasons := _review_for(inp, {"sensitive_topics": {"health": []}})
	not "sensitive_topic" in _codes(reasons)
}
