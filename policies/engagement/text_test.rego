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
