package engagement_test

import data.engagement

base := {
	"mention": {"addressed_brand": true, "text": "My order is late"},
	"reply": {"text": "Sorry, we are on it.", "ai_generated": false},
	"customer": {"opted_out": false, "contacts_24h": 0},
}

test_allow_addressed_complaint if {
	engagement.decision.outcome == "allow" with input as base
}

test_deny_opted_out if {
	engagement.decision.outcome == "deny" with input as base
		with input.customer.opted_out as true
}

test_review_ai_generated if {
	engagement.decision.outcome == "review" with input as base
		with input.reply.ai_generated as true
}

test_deny_beats_review if {
	d := engagement.decision with input as base
		with input.reply.ai_generated as true
		with input.customer.opted_out as true
	d.outcome == "deny"
	count(d.reasons) == 2
}
