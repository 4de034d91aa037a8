# Tests for text.rego's assumptions about data.json: term lists are matched through one
# regex per list, so terms must be lowercase plain words, and regex tunables must compile.
# These fail when a compliance officer's edit to data.json would not match as intended.
package engagement_test

import rego.v1

import data.engagement._folded
import data.engagement._terms_regex

# Words without regex syntax or spaces, separated by single spaces; a word may end in "*"
# (its forms: "medic*").
_plain_term := `^[^\s|.*+?()\[\]{}^$\\#]+\*?( [^\s|.*+?()\[\]{}^$\\#]+\*?)*$`

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

# --- word forms and accents (text.rego: "*" ends a stem, folded text) ---

_form_tunables := {
	"blocked_terms": ["idiot*", "stupid*", "calm down", "idiota*"],
	"legal_terms": ["sue", "sued", "suing", "lawyer*", "abogad*", "anwalt*", "cease and desist"],
	"sensitive_topics": {
		"finance": ["invest", "investing", "invested", "loan*"],
		"health": ["medic*", "prescri*", "arzt*", "sante"],
	},
}

_sensitive_codes(text) := _codes(_review_for(_input({"reply": {"text": text}}), _form_tunables))

test_review_health_word_forms_in_the_reply if {
	"sensitive_topic" in _sensitive_codes("This product is medically proven to help.")
	"sensitive_topic" in _sensitive_codes("Ask whoever prescribed it to you.")
	"sensitive_topic" in _sensitive_codes("Take your medication as usual.")
}

test_review_finance_word_forms if {
	"sensitive_topic" in _sensitive_codes("We recommend investing the refund.")
	"sensitive_topic" in _sensitive_codes("Our loans start at 2%.")
}

test_allow_stem_needs_a_whole_word_start if {
	not "sensitive_topic" in _sensitive_codes("Our comedic video is out.")
	not "sensitive_topic" in _sensitive_codes("We will investigate the delay.")
}

test_review_accents_are_optional_on_either_side if {
	"sensitive_topic" in _sensitive_codes("Fragen Sie Ihren Ärztin oder Apotheker.")
	"sensitive_topic" in _sensitive_codes("Consultez un médecin, c'est une question de santé.")
	r := _reason(_review_for(_input({"reply": {"text": "Pregunte a su MÉDICO."}}), _form_tunables), "sensitive_topic")
	contains(r.message, `health: "medico"`)
}

test_review_legal_word_forms_in_mention_and_reply if {
	inp := _input({"mention": {"text": "@acme I sued them last year and my lawyers are ready"}})
	r := _reason(_review_for(inp, _form_tunables), "legal_language")
	contains(r.message, `"lawyers"`)
	contains(r.message, `"sued"`)
	inp2 := _input({"mention": {"text": "@acme hablaré con mis abogados"}})
	"legal_language" in _codes(_review_for(inp2, _form_tunables))
	inp3 := _input({"reply": {"text": "Unser Anwaltsteam prüft das."}})
	"legal_language" in _codes(_review_for(inp3, _form_tunables))
}

test_allow_legal_term_without_its_forms_stays_whole_word if {
	inp := _input({"mention": {"text": "@acme in pursuit of my refund, the issue is open"}})
	not "legal_language" in _codes(_review_for(inp, _form_tunables))
}

test_deny_blocked_word_forms if {
	reasons := _deny_for(_input({"reply": {"text": "Only idiots would ask that. Stupidity!"}}), _form_tunables)
	r := _reason(reasons, "blocked_term")
	r.message == `The reply contains blocked wording ("idiots", "stupidity"); rephrase it.`
	"blocked_term" in _codes(_deny_for(_input({"reply": {"text": "No sea IDIOTA."}}), _form_tunables))
}

test_allow_shipped_terms_match_the_forms_people_write if {
	lists := [
		data.engagement.legal_terms,
		data.engagement.blocked_terms,
		[term | some terms in data.engagement.sensitive_topics; some term in terms],
	]
	every text in [
		"medically", "prescribed", "investing", "sued", "lawyers", "diagnosed",
		"Médicos", "Ärzte", "abogados", "suicidal", "mortgages", "idiots",
	] {
		some terms in lists
		regex.match(_terms_regex(terms), _folded(text))
	}
}
