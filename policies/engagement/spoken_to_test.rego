# Tests for spoken_to.rego: reply only when the customer addressed the brand.
package engagement_test

import rego.v1

test_allow_mention_addressed_to_brand if {
	codes := _codes(_deny({}))
	not "not_addressed" in codes
}

test_deny_mention_not_addressed_to_brand if {
	reasons := _deny({"mention": {"addressed_brand": false, "text": "ugh, my Brand order broke again"}})
	r := _reason(reasons, "not_addressed")
	r.rule == "engagement.spoken_to.not_addressed"
	contains(r.message, "only reply when spoken to")
}
