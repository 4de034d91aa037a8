# Tests for text.rego's assumptions about data.json: term lists are matched through one
# regex per list, so terms must be lowercase plain words, and regex tunables must compile.
# These fail when a compliance officer's edit to data.json would not match as intended.
package engagement_test

import rego.v1

# Words without regex syntax or spaces, separated by single spaces.
_plain_term := `^[^\s|.*+?()\[\]{}^$\\#]+( [^\s|.*+?()\[\]{}^$\\#]+)*$`

_plain(term) if {
	regex.match(_plain_term, term)
	lower(term) == term
}

test_allow_data_terms_are_plain_words if {
	terms := array.concat(data.engagement.blocked_terms, data.engagement.legal_terms)
	every term in terms {
		_plain(term)
	}
	every topic_terms in data.engagement.sensitive_topics {
		every term in topic_terms {
			_plain(term)
		}
	}
}

test_allow_data_nobot_markers_are_lowercase_hashtags if {
	every marker in data.engagement.nobot_markers {
		regex.match(`^#?[^\s|.*+?()\[\]{}^$\\#]+$`, marker)
		lower(marker) == marker
	}
}

test_allow_data_regexes_are_valid if {
	patterns := array.concat(
		array.concat(data.engagement.marketing.text_patterns, data.engagement.marketing.link_patterns),
		data.engagement.marketing.solicited_patterns,
	)
	every pattern in patterns {
		regex.is_valid(pattern)
	}
	every spec in data.engagement.personal_data.patterns {
		regex.is_valid(spec.pattern)
		spec.label != ""
	}
}

test_deny_plain_term_check_rejects_regex_syntax if {
	_plain("cease and desist")
	_plain("don't")
	_plain("überweisung")
	not _plain("sue|.*")
	not _plain("Lawsuit")
	not _plain("legal  action")
	not _plain(" sue")
	not _plain("")
}

# Every reason code the shipped rules (and the rules being added beside them) can give has
# its place in reason_order, listed once; unknown codes would sort last, after content.
test_allow_data_reason_order_lists_every_code_once if {
	order := data.engagement.reason_order
	is_array(order)
	count({code | some code in order}) == count(order)
	every code in order {
		is_string(code)
	}
	known := {
		"opted_out", "nobot", "possible_opt_out", "author_is_bot", "not_addressed",
		"intent_not_eligible", "language_unsupported", "intent_overridden", "frequency_cap", "blocked_term", "marketing_offer",
		"personal_data", "too_long", "legal_language", "sensitive_topic", "ai_generated",
	}
	every code in known {
		code in order
	}
}

test_allow_data_byte_limits_are_positive_integers if {
	every limit in data.engagement.channel_byte_limits {
		is_number(limit)
		limit == round(limit)
		limit > 0
	}
}
