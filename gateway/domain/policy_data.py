"""The JSON Schema of ``data.engagement`` (``policies/engagement/data.json``): the tunables
compliance officers change without touching Rego.

Defined once here; written to ``policies/data.schema.json`` by
``python -m gateway policy schema`` and checked for staleness by a test. The console
builds its tunables forms from it (``gateway.domain.policy_form``): every property with a
``title`` is a form field, in the order given here; ``x-form: false`` keeps one out of the
forms (it stays in the data, edited with the rest of the bundle).

Keywords beyond JSON Schema (draft 2020-12), read by the forms and ignored by validators:
``x-lowercase`` (the rules match lower-cased text, so an upper-case letter never matches),
``x-regex`` (the string is an RE2 pattern; checked with the policy engine),
``x-empty-removes`` (an empty value removes the property: a removed cap is off),
``x-required-keys`` (a map's keys that cannot be removed).

The top level allows other properties: a draft may add tunables for rules of its own.
"""

from __future__ import annotations

from typing import Any

import msgspec

# Words without regex syntax, separated by single spaces: the rule in
# policies/engagement/text_test.rego (test_allow_data_terms_are_plain_words).
PLAIN_TERM = r"^[^\s|.*+?()\[\]{}^$\\#]+\*?( [^\s|.*+?()\[\]{}^$\\#]+\*?)*$"
NOBOT_MARKER = r"^#?[^\s|.*+?()\[\]{}^$\\#]+$"
MAP_KEY = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
INTENTS = ["complaint", "question", "praise", "other"]

MAX_TERMS = 2000
MAX_TERM_CHARS = 200
MAX_PATTERN_CHARS = 1000
MAX_CAP = 10_000
MAX_CHANNEL_LIMIT = 1_000_000


def _terms(title: str, description: str, *, pattern: str = PLAIN_TERM) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "type": "array",
        "maxItems": MAX_TERMS,
        "uniqueItems": True,
        "items": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_TERM_CHARS,
            "pattern": pattern,
            "x-lowercase": True,
        },
    }


def _patterns(title: str, description: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "type": "array",
        "maxItems": MAX_TERMS,
        "uniqueItems": True,
        "items": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_PATTERN_CHARS,
            "x-regex": True,
        },
    }


def _cap(title: str, description: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": description + " Leave it empty to turn this cap off.",
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_CAP,
        "x-empty-removes": True,
    }


def _limits(title: str, description: str, *, required: list[str]) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "type": "object",
        "propertyNames": {"pattern": MAP_KEY, "maxLength": 64},
        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": MAX_CHANNEL_LIMIT},
        "x-required-keys": required,
    }


DATA_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "data.engagement",
    "description": "The tunables of the engagement policy (policies/engagement/data.json).",
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "caps": {
            "title": "Contact caps",
            "description": "How many replies one customer may receive; a reply that would "
            "exceed a cap is denied (frequency_cap).",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "per_customer_24h": _cap("Replies per customer in 24 hours", "At most."),
                "per_customer_7d": _cap("Replies per customer in 7 days", "At most."),
                "per_customer_30d": _cap("Replies per customer in 30 days", "At most."),
                "per_thread_unanswered": _cap(
                    "Replies in a thread the customer has not answered",
                    "Further replies wait for the customer to answer.",
                ),
            },
        },
        "eligible_intents": {
            "title": "Intents the brand replies to",
            "description": "A mention classified with another intent is denied "
            "(intent_not_eligible).",
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "enum": INTENTS},
        },
        "allow_praise": {
            "title": "Also reply to praise",
            "description": "Praise is answered only when this is on.",
            "type": "boolean",
        },
        "min_intent_score": {
            "x-form": False,
            "description": "A mention is eligible when any of its intents (mention.intents) "
            "is eligible with at least this score (0 to 1); edited with the rules.",
            "type": "number",
            "minimum": 0,
            "maximum": 1,
        },
        "blocked_terms": _terms(
            "Blocked terms",
            "A reply containing one of these words or phrases is denied (blocked_term). "
            "One per line, lower case; a space matches any run of spaces or punctuation, "
            "accents are optional, a word ending in * also matches its longer forms.",
        ),
        "legal_terms": _terms(
            "Legal terms",
            "A mention or reply with one of these goes to review (legal_language). "
            "One per line, lower case.",
        ),
        "sensitive_topics": {
            "title": "Sensitive topics",
            "description": "Terms per topic; a reply touching one goes to review "
            "(sensitive_topic). One term per line, lower case; empty a topic's terms to "
            "remove it.",
            "type": "object",
            "propertyNames": {"pattern": MAP_KEY, "maxLength": 64},
            "additionalProperties": _terms("Terms", "One per line, lower case."),
        },
        "marketing": {
            "title": "Marketing patterns",
            "description": "Regular expressions (RE2) that mark a reply as marketing "
            "(marketing_offer), unless the customer asked about prices or offers.",
            "type": "object",
            "additionalProperties": True,
            "properties": {
                "text_patterns": _patterns(
                    "Offer patterns in the reply text", "One regular expression per line."
                ),
                "link_patterns": _patterns(
                    "Offer patterns in the reply's links", "One regular expression per line."
                ),
                "solicited_patterns": _patterns(
                    "Patterns showing the customer asked about prices or offers",
                    "One regular expression per line.",
                ),
            },
        },
        "channel_limits": _limits(
            "Reply length per channel (characters)",
            "A longer reply is denied (too_long); 'default' applies to any other channel.",
            required=["default"],
        ),
        "channel_byte_limits": _limits(
            "Reply size per channel (bytes of UTF-8)",
            "A channel with a limit in bytes as well as in characters.",
            required=[],
        ),
        "nobot_markers": _terms(
            "No-bot markers",
            "A mention containing one of these tags is not answered (nobot). One per line.",
            pattern=NOBOT_MARKER,
        ),
        "bots": {
            "title": "Replies to automated accounts",
            "type": "object",
            "additionalProperties": True,
            "properties": {
                "action": {
                    "title": "What happens to a reply to a bot",
                    "description": "deny: never sent; review: a person decides.",
                    "type": "string",
                    "enum": ["deny", "review"],
                },
            },
        },
        "brand_handles": {
            "x-form": False,
            "type": "array",
            "items": {"type": "string", "maxLength": 200},
        },
        "reason_order": {
            "x-form": False,
            "description": "The order of reason codes in a decision; edited with the rules.",
            "type": "array",
            "items": {"type": "string"},
        },
        "personal_data": {
            "x-form": False,
            "description": "Patterns of personal data a reply must not echo back; edited "
            "with the rules.",
            "type": "object",
        },
    },
    "required": ["caps", "eligible_intents", "channel_limits"],
}


def data_schema_json() -> bytes:
    """The schema as committed in ``policies/data.schema.json``."""
    schema = {
        **DATA_SCHEMA,
        "$comment": "Generated from gateway/domain/policy_data.py by "
        "`python -m gateway policy schema`; do not edit by hand.",
    }
    return msgspec.json.format(msgspec.json.encode(schema), indent=2) + b"\n"
