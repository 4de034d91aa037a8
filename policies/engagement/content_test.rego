# Tests for content.rego: blocked terms, marketing offers, personal data, length, legal language.
package engagement_test

import rego.v1

# --- blocked_term ---

test_allow_polite_reply if {
	codes := _codes(_deny({}))
	not "blocked_term" in codes
}

test_deny_blocked_term if {
	r := _reason(_deny({"reply": {"text": "Please calm down, we are on it."}}), "blocked_term")
	r.rule == "engagement.content.blocked_term"
	r.message == `The reply contains blocked wording ("calm down"); rephrase it.`
}

test_deny_blocked_term_any_case_and_punctuation if {
	r := _reason(_deny({"reply": {"text": "CALM-DOWN!!! That was STUPID."}}), "blocked_term")
	contains(r.message, `"calm down", "stupid"`)
}

test_allow_blocked_term_inside_another_word if {
	codes := _codes(_deny({"reply": {"text": "Try the dumbbell set instead; we can scrap the old order."}}))
	not "blocked_term" in codes
}

test_allow_blocked_term_only_in_mention if {
	codes := _codes(_deny({"mention": {"text": "@brand you idiots broke my order"}}))
	not "blocked_term" in codes
}

test_deny_blocked_term_from_data if {
	inp := _input({"reply": {"text": "Unfortunately that is a Refund Denied case."}})
	reasons := _deny_for(inp, {"blocked_terms": ["refund denied"]})
	"blocked_term" in _codes(reasons)
}

test_deny_blocked_term_written_in_upper_case_in_data if {
	inp := _input({"reply": {"text": "Unfortunately that is a refund-denied case."}})
	r := _reason(_deny_for(inp, {"blocked_terms": ["Refund Denied"]}), "blocked_term")
	r.message == `The reply contains blocked wording ("refund denied"); rephrase it.`
}

test_allow_when_no_blocked_terms_configured if {
	inp := _input({"reply": {"text": "Please calm down."}})
	reasons := _deny_for(inp, {"blocked_terms": []})
	not "blocked_term" in _codes(reasons)
}

# --- marketing_offer ---

test_allow_reply_without_offer if {
	codes := _codes(_deny({}))
	not "marketing_offer" in codes
}

test_deny_percent_off_in_reply_to_complaint if {
	r := _reason(_deny({"reply": {"text": "Sorry! Here is 20% off your next order."}}), "marketing_offer")
	r.rule == "engagement.content.marketing_offer"
	r.message == `The reply contains a marketing offer ("20% off") and the customer did not ask for one.`
}

test_deny_promo_code if {
	r := _reason(_deny({"reply": {"text": "Use code SORRY10 at checkout."}}), "marketing_offer")
	contains(r.message, `("use code")`)
}

test_deny_offer_message_names_every_word_and_link_once if {
	inp := {"reply": {
		"text": "Take 15% off with a COUPON, or another coupon: https://shop.example.com/deals",
		"links": ["https://shop.example.com/deals", "https://example.com/help/reset"],
	}}
	r := _reason(_deny(inp), "marketing_offer")
	contains(r.message, `("15% off", "coupon", "https://shop.example.com/deals")`)
}

# French typography and phone keyboards put a no-break space before "%": still an offer
# (written out in the patterns because \s differs between regorus and OPA for it).
test_deny_percent_off_after_no_break_space if {
	"marketing_offer" in _codes(_deny({"reply": {"text": "Voici 20\u00a0% off."}}))
	"marketing_offer" in _codes(_deny({"reply": {"text": "Here is 20\u202f% off."}}))
}

test_deny_coupon_any_case if {
	"marketing_offer" in _codes(_deny({"reply": {"text": "We have sent you a COUPON."}}))
}

test_deny_sale_link if {
	inp := {"reply": {
		"text": "Have a look here: https://shop.example.com/s/1",
		"links": ["https://shop.example.com/Summer-Sale/"],
	}}
	r := _reason(_deny(inp), "marketing_offer")
	r.message == concat("", [
		`The reply contains a marketing offer ("https://shop.example.com/Summer-Sale/")`,
		" and the customer did not ask for one.",
	])
}

test_allow_link_to_help_page if {
	inp := {"reply": {"text": "Steps: https://example.com/help/reset", "links": ["https://example.com/help/reset"]}}
	codes := _codes(_deny(inp))
	not "marketing_offer" in codes
}

test_allow_offer_when_customer_asked_about_price if {
	inp := {
		"mention": {"intent": "question", "text": "@brand do you have a discount for students?"},
		"reply": {"text": "Yes: students get 10% off with code STUDENT10."},
	}
	codes := _codes(_deny(inp))
	not "marketing_offer" in codes
}

test_deny_offer_when_complaint_mentions_price if {
	inp := {
		"mention": {"intent": "complaint", "text": "@brand this cost me 80 euros and broke in a week"},
		"reply": {"text": "So sorry! Take 15% off your next order."},
	}
	"marketing_offer" in _codes(_deny(inp))
}

test_deny_offer_when_question_is_not_about_price if {
	inp := {
		"mention": {"intent": "question", "text": "@brand how do I reset my router?"},
		"reply": {"text": "Hold the button for 10 seconds. Also: use code ROUTER5 for a discount!"},
	}
	"marketing_offer" in _codes(_deny(inp))
}

test_deny_offer_when_question_mentions_an_error_code if {
	inp := {
		"mention": {"intent": "question", "text": "@brand what does error code E42 mean?"},
		"reply": {"text": "It means the filter is blocked. Use code CLEAN10 for 10% off a new one."},
	}
	"marketing_offer" in _codes(_deny(inp))
}

# --- personal_data ---

test_allow_reply_without_personal_data if {
	codes := _codes(_deny({"reply": {"text": "Your order 123456 ships today."}}))
	not "personal_data" in codes
}

test_deny_email_not_in_mention if {
	r := _reason(_deny({"reply": {"text": "Jane wrote to jane.doe@example.org about it."}}), "personal_data")
	r.rule == "engagement.content.personal_data"
	contains(r.message, "an e-mail address")
	not contains(r.message, "jane.doe")
}

test_allow_email_echoed_from_mention if {
	inp := {
		"mention": {"text": "@brand reach me at Jane.Doe@Example.org please"},
		"reply": {"text": "Thanks, we will write to jane.doe@example.org today."},
	}
	codes := _codes(_deny(inp))
	not "personal_data" in codes
}

test_deny_phone_number if {
	r := _reason(_deny({"reply": {"text": "Call our engineer on 555-123-4567."}}), "personal_data")
	contains(r.message, "a phone number")
}

test_allow_phone_echoed_in_another_format if {
	inp := {
		"mention": {"text": "@brand call me on 555 123 4567"},
		"reply": {"text": "We will call (555) 123-4567 within the hour."},
	}
	codes := _codes(_deny(inp))
	not "personal_data" in codes
}

test_deny_card_number if {
	r := _reason(_deny({"reply": {"text": "We refunded card 4111 1111 1111 1111."}}), "personal_data")
	contains(r.message, "a payment card number")
}

test_deny_iban if {
	r := _reason(_deny({"reply": {"text": "We paid to DE89 3704 0044 0532 0130 00 yesterday."}}), "personal_data")
	contains(r.message, "IBAN")
}

test_deny_new_data_next_to_echoed_data if {
	inp := {
		"mention": {"text": "@brand my mail is ann@example.com"},
		"reply": {"text": "We wrote to ann@example.com; or call 555-987-6543."},
	}
	r := _reason(_deny(inp), "personal_data")
	contains(r.message, "(a phone number)")
}

test_allow_allowlisted_brand_address if {
	inp := _input({"reply": {"text": "Write to Help@Brand.example and we will sort it out."}})
	pd := object.union(_test_tunables.personal_data, {"allowlist": ["help@brand.example"]})
	reasons := _deny_for(inp, {"personal_data": pd})
	not "personal_data" in _codes(reasons)
}

test_deny_brand_address_when_not_allowlisted if {
	"personal_data" in _codes(_deny({"reply": {"text": "Write to help@brand.example and we will sort it out."}}))
}

# --- too_long ---

test_allow_reply_exactly_at_channel_limit if {
	codes := _codes(_deny({"reply": {"length": 500}}))
	not "too_long" in codes
}

test_deny_reply_over_channel_limit if {
	r := _reason(_deny({"reply": {"length": 501}}), "too_long")
	r.rule == "engagement.content.too_long"
	r.message == "The reply is too long for mastodon: 501 characters (limit 500). Shorten it."
}

test_deny_bluesky_limit if {
	"too_long" in _codes(_deny({"channel": {"name": "bluesky"}, "reply": {"length": 301}}))
}

test_allow_unknown_channel_uses_default_limit if {
	codes := _codes(_deny({"channel": {"name": "forum"}, "reply": {"length": 1000}}))
	not "too_long" in codes
}

test_deny_unknown_channel_over_default_limit if {
	"too_long" in _codes(_deny({"channel": {"name": "forum"}, "reply": {"length": 1001}}))
}

test_allow_channel_max_length_override_above_data if {
	codes := _codes(_deny({"channel": {"max_length": 2000}, "reply": {"length": 1500}}))
	not "too_long" in codes
}

test_allow_reply_exactly_at_max_length_override if {
	codes := _codes(_deny({"channel": {"max_length": 100}, "reply": {"length": 100}}))
	not "too_long" in codes
}

test_deny_channel_max_length_override_below_data if {
	r := _reason(_deny({"channel": {"max_length": 100}, "reply": {"length": 101}}), "too_long")
	contains(r.message, "101 characters (limit 100)")
}

test_deny_max_length_absent_uses_data if {
	inp := json.remove(_input({"channel": {"name": "bluesky"}, "reply": {"length": 301}}), ["channel/max_length"])
	reasons := _deny_for(inp, {})
	"too_long" in _codes(reasons)
}

test_deny_bluesky_graphemes_named_in_message if {
	inp := {
		"channel": {"name": "bluesky", "max_length": 300, "length_unit": "graphemes", "max_bytes": 3000},
		"reply": {"length": 301, "bytes": 400},
	}
	r := _reason(_deny(inp), "too_long")
	r.rule == "engagement.content.too_long"
	r.message == "The reply is too long for bluesky: 301 graphemes (limit 300). Shorten it."
}

# 125 graphemes of emoji families are 3,029 bytes: within Bluesky's grapheme limit, over its
# byte limit, which the channel enforces too.
test_deny_bluesky_bytes_over_limit_within_grapheme_limit if {
	inp := {
		"channel": {"name": "bluesky", "max_length": 300, "length_unit": "graphemes", "max_bytes": 3000},
		"reply": {"length": 125, "bytes": 3029},
	}
	r := _reason(_deny(inp), "too_long")
	r.rule == "engagement.content.too_long_bytes"
	r.message == "The reply is too long for bluesky: 3029 bytes (limit 3000). Shorten it."
}

test_allow_bytes_exactly_at_limit if {
	inp := {"channel": {"name": "bluesky", "max_length": 300, "max_bytes": 3000}, "reply": {"length": 125, "bytes": 3000}}
	codes := _codes(_deny(inp))
	not "too_long" in codes
}

test_deny_over_graphemes_and_bytes_gives_both if {
	inp := {
		"channel": {"name": "bluesky", "max_length": 300, "length_unit": "graphemes", "max_bytes": 3000},
		"reply": {"length": 301, "bytes": 3001},
	}
	rules := {r.rule | some r in _deny(inp); r.code == "too_long"}
	rules == {"engagement.content.too_long", "engagement.content.too_long_bytes"}
}

test_deny_byte_limit_from_data_when_channel_sets_none if {
	r := _reason(_deny({"channel": {"name": "bluesky"}, "reply": {"length": 125, "bytes": 3001}}), "too_long")
	r.message == "The reply is too long for bluesky: 3001 bytes (limit 3000). Shorten it."
}

test_deny_byte_limit_tuned_in_data if {
	inp := _input({"reply": {"bytes": 88}})
	reasons := _deny_for(inp, {"channel_byte_limits": {"mastodon": 87}})
	"engagement.content.too_long_bytes" in _rules(reasons)
}

test_deny_channel_max_bytes_override if {
	r := _reason(_deny({"channel": {"max_bytes": 80}}), "too_long")
	r.message == "The reply is too long for mastodon: 87 bytes (limit 80). Shorten it."
}

test_allow_channel_without_byte_limit if {
	codes := _codes(_deny({"channel": {"name": "webhook"}, "reply": {"length": 1500, "bytes": 6000}}))
	not "too_long" in codes
}

test_allow_bytes_absent_not_checked if {
	inp := json.remove(_input({"channel": {"name": "bluesky"}, "reply": {"length": 125}}), ["reply/bytes"])
	codes := _codes(_deny_for(inp, {}))
	not "too_long" in codes
}

test_deny_channel_limit_from_data if {
	inp := _input({"reply": {"length": 120}})
	reasons := _deny_for(inp, {"channel_limits": {"mastodon": 100, "default": 1000}})
	"too_long" in _codes(reasons)
}

# --- legal_language ---

test_allow_no_legal_language if {
	# The base mention says "issue": "sue" must match whole words only.
	codes := _codes(_review({}))
	not "legal_language" in codes
}

test_allow_legal_term_inside_other_words if {
	inp := {"mention": {"text": "@brand we will pursue the issue of the courtesy call"}}
	codes := _codes(_review(inp))
	not "legal_language" in codes
}

test_review_legal_term_in_mention if {
	reasons := _review({"mention": {"text": "@brand I am taking legal action over this"}})
	r := _reason(reasons, "legal_language")
	r.rule == "engagement.content.legal_language"
	contains(r.message, `"legal action"`)
	codes := _codes(_deny({"mention": {"text": "@brand I am taking legal action over this"}}))
	not "legal_language" in codes
}

test_review_legal_term_in_reply if {
	"legal_language" in _codes(_review({"reply": {"text": "Our lawyers are looking into it."}}))
}

test_review_cease_and_desist_hyphenated_any_case if {
	r := _reason(_review({"mention": {"text": "@brand CEASE-AND-DESIST now"}}), "legal_language")
	contains(r.message, `"cease and desist"`)
}

test_review_legal_term_from_data if {
	inp := _input({"mention": {"text": "@brand this is a breach of contract"}})
	reasons := _review_for(inp, {"legal_terms": ["breach of contract"]})
	"legal_language" in _codes(reasons)
}
