# Tests for bots.rego: replies to automated accounts are denied, or sent to review when
# data.engagement.bots.action says so. Every test pins data.engagement.bots.
package engagement_test

import rego.v1

_bot_input := _input({"mention": {"author": {"bot": true}}})

test_deny_reply_to_bot_account if {
	reasons := _deny_for(_bot_input, {"bots": {"action": "deny"}})
	r := _reason(reasons, "author_is_bot")
	r.rule == "engagement.bots.author_is_bot"
	r.message == "The author's account is marked as automated (a bot); replies to bots are not sent, so two bots never answer each other."
	not "author_is_bot" in _codes(_review_for(_bot_input, {"bots": {"action": "deny"}}))
}

test_deny_decision_for_bot_even_when_everything_else_is_clean if {
	d := _decision_for(_bot_input, {"bots": {"action": "deny"}})
	d.outcome == "deny"
	[r.code | some r in d.reasons] == ["author_is_bot"]
}

test_deny_bot_flag_with_odd_value if {
	# Any value but false counts as a bot: a malformed flag fails closed.
	inp := _input({"mention": {"author": {"bot": "yes"}}})
	"author_is_bot" in _codes(_deny_for(inp, {"bots": {"action": "deny"}}))
}

test_deny_when_action_is_unknown if {
	# Only "review" softens the rule; a typo in data.json still denies.
	reasons := _deny_for(_bot_input, {"bots": {"action": "allow"}})
	"author_is_bot" in _codes(reasons)
}

test_deny_when_action_is_missing if {
	reasons := _deny_for(_bot_input, {"bots": {}})
	"author_is_bot" in _codes(reasons)
}

test_review_reply_to_bot_when_tuned_to_review if {
	tunables := {"bots": {"action": "review"}}
	r := _reason(_review_for(_bot_input, tunables), "author_is_bot")
	r.rule == "engagement.bots.author_is_bot_review"
	r.message == "The author's account is marked as automated (a bot); a person must decide whether to answer it."
	not "author_is_bot" in _codes(_deny_for(_bot_input, tunables))
	_decision_for(_bot_input, tunables).outcome == "review"
}

test_allow_reply_to_person if {
	inp := _input({"mention": {"author": {"bot": false}}})
	not "author_is_bot" in _codes(_deny_for(inp, {"bots": {"action": "deny"}}))
	not "author_is_bot" in _codes(_review_for(inp, {"bots": {"action": "review"}}))
}

test_allow_bot_flag_absent if {
	inp := json.remove(_base_input, ["mention/author/bot"])
	d := _decision_for(inp, {"bots": {"action": "deny"}})
	d == {"outcome": "allow", "reasons": []}
}

test_allow_data_bots_action_is_deny_or_review if {
	data.engagement.bots.action in {"deny", "review"}
}
