# Tests for ai.rego: AI-drafted replies go to review.
package engagement_test

import rego.v1

test_allow_reply_written_by_a_person if {
	codes := _codes(_review({"reply": {"ai_generated": false}}))
	not "ai_generated" in codes
}

test_allow_ai_flag_absent if {
	inp := json.remove(_base_input, ["reply/ai_generated"])
	reasons := _review_for(inp, {})
	not "ai_generated" in _codes(reasons)
}

test_review_ai_generated_reply if {
	r := _reason(_review({"reply": {"ai_generated": true}}), "ai_generated")
	r.rule == "engagement.ai.ai_generated"
	codes := _codes(_deny({"reply": {"ai_generated": true}}))
	not "ai_generated" in codes
}
