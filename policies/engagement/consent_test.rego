# Tests for consent.rego: opt-out, possible opt-out and no-bot markers.
package engagement_test

import rego.v1

test_allow_customer_not_opted_out if {
	codes := _codes(_deny({}))
	not "opted_out" in codes
}

test_deny_opted_out_customer if {
	r := _reason(_deny({"customer": {"opted_out": true}}), "opted_out")
	r.rule == "engagement.consent.opted_out"
	r.message == "The customer has opted out of contact on this channel."
}

test_allow_without_nobot_marker if {
	codes := _codes(_deny({}))
	not "nobot" in codes
}

test_deny_nobot_in_mention_text if {
	r := _reason(_deny({"mention": {"text": "@brand your app is down again #nobot"}}), "nobot")
	r.rule == "engagement.consent.nobot"
	contains(r.message, `"#nobot"`)
}

test_deny_nobot_in_display_name_any_case if {
	"nobot" in _codes(_deny({"mention": {"author": {"display_name": "Ann (#NoBot)"}}}))
}

test_deny_nobot_in_profile_description if {
	"nobot" in _codes(_deny({"mention": {"author": {"description": "Gardener. Opinions mine. #nobot #noads"}}}))
}

test_allow_profile_without_marker if {
	codes := _codes(_deny({"mention": {"author": {"description": "Gardener, #noads"}}}))
	not "nobot" in codes
}

test_deny_noai_marker_upper_case if {
	"nobot" in _codes(_deny({"mention": {"text": "@brand where is my parcel? #NOAI"}}))
}

test_allow_marker_prefix_of_longer_hashtag if {
	codes := _codes(_deny({"mention": {"text": "@brand loved the #nobotany exhibition"}}))
	not "nobot" in codes
}

test_allow_word_nobot_without_hash if {
	codes := _codes(_deny({"mention": {"text": "@brand is there nobot support?"}}))
	not "nobot" in codes
}

test_deny_marker_from_data if {
	inp := _input({"mention": {"text": "@brand refund please #nocontact"}})
	reasons := _deny_for(inp, {"nobot_markers": ["#nocontact"]})
	"nobot" in _codes(reasons)
}

test_allow_when_no_markers_configured if {
	inp := _input({"mention": {"text": "@brand refund please #nobot"}})
	reasons := _deny_for(inp, {"nobot_markers": []})
	not "nobot" in _codes(reasons)
}

test_allow_mention_without_possible_opt_out if {
	not "possible_opt_out" in _codes(_review({"mention": {"possible_opt_out": false}}))
	not "possible_opt_out" in _codes(_review({})) # absent: the base input has no such field
}

test_review_possible_opt_out if {
	r := _reason(_review({"mention": {"possible_opt_out": true}}), "possible_opt_out")
	r.rule == "engagement.consent.possible_opt_out"
	r.message == "The customer may have asked not to be answered; a person must check before anyone replies."
	not "possible_opt_out" in _codes(_deny({"mention": {"possible_opt_out": true}}))
	d := _decision({"mention": {"possible_opt_out": true}})
	d.outcome == "review"
}

test_review_possible_opt_out_malformed_value if {
	"possible_opt_out" in _codes(_review({"mention": {"possible_opt_out": "yes"}}))
}

test_deny_opted_out_beats_possible_opt_out if {
	d := _decision({"mention": {"possible_opt_out": true}, "customer": {"opted_out": true}})
	d.outcome == "deny"
	{"opted_out", "possible_opt_out"} == {r.code | some r in d.reasons}
}
