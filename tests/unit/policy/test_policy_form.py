"""Tunables forms: schema + data → fields, and a submitted form → validated data with one
error per field a person can act on (gateway.domain.policy_form)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.domain.policy_data import DATA_SCHEMA, data_schema_json
from gateway.domain.policy_form import FormField, build_form, field_name, read_form
from gateway.policy.patterns import invalid_patterns

ROOT = Path(__file__).resolve().parents[3]
DATA: dict[str, Any] = json.loads((ROOT / "policies/engagement/data.json").read_text())


def _flatten(fields: list[FormField]) -> dict[str, FormField]:
    out: dict[str, FormField] = {}
    for f in fields:
        out[f.name] = f
        out.update(_flatten(f.fields))
    return out


def _submission(data: dict[str, Any]) -> dict[str, list[str]]:
    """What a browser sends for the form as rendered (hidden markers included)."""
    form: dict[str, list[str]] = {}
    for f in _flatten(build_form(DATA_SCHEMA, data)).values():
        if f.kind in ("group", "map"):
            continue
        if f.kind == "boolean":
            form[f.name] = ["off", *f.selected]
        elif f.kind == "multichoice":
            form[f.name] = ["", *f.selected]
        else:
            form[f.name] = [f.value]
    return form


def _read(changes: dict[str, str | list[str]], data: dict[str, Any] | None = None) -> Any:
    base = data if data is not None else DATA
    form = _submission(base)
    for name, value in changes.items():
        form[name] = [value] if isinstance(value, str) else value
    return read_form(DATA_SCHEMA, base, form, check_patterns=invalid_patterns)


CAP_7D = field_name(["caps", "per_customer_7d"])
BLOCKED = field_name(["blocked_terms"])
TOPICS = "sensitive_topics"


def test_committed_schema_is_current() -> None:
    assert (ROOT / "policies/data.schema.json").read_bytes() == data_schema_json(), (
        "policies/data.schema.json is stale: run `python -m gateway policy schema`"
    )


def test_shipped_data_reads_back_unchanged() -> None:
    result = _read({})
    assert result.errors == {}
    assert result.changed == []
    assert result.data == DATA


def test_the_form_offers_every_tunable_the_issue_names() -> None:
    names = set(_flatten(build_form(DATA_SCHEMA, DATA)))
    for expected in (
        CAP_7D,
        "eligible_intents",
        "blocked_terms",
        "legal_terms",
        "sensitive_topics/health",
        "marketing/text_patterns",
        "channel_limits/default",
        "channel_limits/bluesky",
    ):
        assert expected in names
    assert "personal_data" not in names  # x-form: false, kept as is
    cap = _flatten(build_form(DATA_SCHEMA, DATA))[CAP_7D]
    assert (cap.kind, cap.value, cap.minimum, cap.maximum) == ("integer", "6", 0, 10_000)


def test_raise_a_cap() -> None:
    result = _read({CAP_7D: " 9 "})
    assert result.ok
    assert result.data["caps"]["per_customer_7d"] == 9
    assert result.changed == [CAP_7D]
    assert result.data["personal_data"] == DATA["personal_data"]  # untouched


def test_an_emptied_cap_is_removed_which_turns_it_off() -> None:
    result = _read({CAP_7D: ""})
    assert result.ok
    assert "per_customer_7d" not in result.data["caps"]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("-1", "too small: use 0 or more"),
        ("10001", "too large: use at most 10000"),
        ("99999999999999999999", "too large"),
        ("9" * 5000, "too long for a number"),
        ("1e3", "not a whole number"),
        ("6.0", "not a whole number"),
        ("six", "not a whole number"),
        ("\uff16", "not a whole number"),  # a full-width 6: int() would take it
        ("\u0666", "not a whole number"),  # an Arabic-Indic 6
        ("6\x00", "not a whole number"),
        ("+", "not a whole number"),
    ],
)
def test_bad_caps_are_refused_naming_the_field(raw: str, words: str) -> None:
    result = _read({CAP_7D: raw})
    assert not result.ok
    assert words in result.errors[CAP_7D]
    assert result.data == DATA  # nothing half-applied


def test_add_a_blocked_term() -> None:
    terms = "\n".join([*DATA["blocked_terms"], "  rubbish  ", ""])
    result = _read({BLOCKED: terms})
    assert result.ok
    assert result.data["blocked_terms"] == [*DATA["blocked_terms"], "rubbish"]
    assert result.changed == [BLOCKED]


@pytest.mark.parametrize(
    ("term", "words"),
    [
        ("Rubbish", "write it as 'rubbish'"),
        ("sue|.*", "plain words"),
        ("legal  action", "plain words"),
        ("#tag", "plain words"),
        ("bad\x00word", "control character (U+0000)"),
        ("zero\u200bwidth", "invisible or control character (U+200B)"),
        ("rtl\u202eoverride", "U+202E"),
        ("x" * 201, "at most 200"),
        ("idiot*", "listed twice"),  # as shipped in data.json
    ],
)
def test_bad_terms_are_refused_with_their_line(term: str, words: str) -> None:
    terms = "\n".join([*DATA["blocked_terms"], term])
    result = _read({BLOCKED: terms})
    assert not result.ok
    message = result.errors[BLOCKED]
    assert words in message
    assert f"line {len(DATA['blocked_terms']) + 1}" in message


def test_terms_in_other_scripts_and_decomposed_accents_are_kept_composed() -> None:
    terms = "überweisung\ncafe\u0301\n\u4e0d\u884c"  # NFD é becomes NFC é
    result = _read({BLOCKED: terms})
    assert result.ok
    assert result.data["blocked_terms"] == ["überweisung", "caf\u00e9", "\u4e0d\u884c"]


def test_an_emptied_term_list_is_an_empty_list() -> None:
    result = _read({BLOCKED: "\n \n"})
    assert result.ok
    assert result.data["blocked_terms"] == []


def test_a_huge_textarea_is_refused() -> None:
    result = _read({BLOCKED: "a\n" * 300_000})
    assert "longer than" in result.errors[BLOCKED]


def test_too_many_terms_are_refused() -> None:
    result = _read({BLOCKED: "\n".join(f"w{i}" for i in range(2001))})
    assert "at most 2000" in result.errors[BLOCKED]


def test_add_and_remove_a_sensitive_topic() -> None:
    result = _read(
        {
            f"{TOPICS}/%2Bkey": "gambling",
            f"{TOPICS}/%2Bvalue": "casino\nbetting",
            f"{TOPICS}/crisis": "",
        }
    )
    assert result.ok, result.errors
    topics = result.data[TOPICS]
    assert topics["gambling"] == ["casino", "betting"]
    assert "crisis" not in topics
    assert topics["health"] == DATA[TOPICS]["health"]


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("Gambling", "not a valid name"),
        ("a/b", "not a valid name"),
        ("health", "already exists"),
        ("x" * 65, "not a valid name"),
        ("gam\u200bbling", "invisible"),
    ],
)
def test_bad_new_topic_names(key: str, words: str) -> None:
    result = _read({f"{TOPICS}/%2Bkey": key, f"{TOPICS}/%2Bvalue": "casino"})
    assert words in result.errors[f"{TOPICS}/%2Bkey"]


def test_a_new_entry_needs_a_name_and_a_value() -> None:
    no_name = _read({"channel_limits/%2Bvalue": "300"})
    assert "name" in no_name.errors["channel_limits/%2Bkey"]
    no_value = _read({"channel_limits/%2Bkey": "forum"})
    assert "enter a value" in no_value.errors["channel_limits/%2Bvalue"]


def test_channel_limits_add_change_and_keep_default() -> None:
    result = _read(
        {
            "channel_limits/%2Bkey": "forum",
            "channel_limits/%2Bvalue": "800",
            "channel_limits/bluesky": "280",
            "channel_limits/demo": "",
        }
    )
    assert result.ok, result.errors
    limits = result.data["channel_limits"]
    assert (limits["forum"], limits["bluesky"], "demo" in limits) == (800, 280, False)
    refused = _read({"channel_limits/default": ""})
    assert "'default' is required" in refused.errors["channel_limits/default"]
    zero = _read({"channel_limits/bluesky": "0"})
    assert "use 1 or more" in zero.errors["channel_limits/bluesky"]


def test_marketing_patterns_are_checked_by_the_policy_engine() -> None:
    name = "marketing/text_patterns"
    bad = _read({name: "\\bsale\\b\n(?=look-ahead)"})
    assert "not compile" in bad.errors[name]
    assert "(?=look-ahead)" in bad.errors[name]
    good = _read({name: "\\x{00A0}off\\b"})  # RE2 syntax Python's re does not know
    assert good.ok, good.errors


def test_intents_are_checkboxes_of_known_intents() -> None:
    result = _read({"eligible_intents": ["", "question", "complaint", "praise"]})
    assert result.ok
    assert result.data["eligible_intents"] == ["complaint", "question", "praise"]
    forged = _read({"eligible_intents": ["", "spam"]})
    assert "'spam' is not one of" in forged.errors["eligible_intents"]


def test_boolean_and_choice() -> None:
    result = _read({"allow_praise": ["off", "on"], "bots/action": "review"})
    assert result.ok
    assert (result.data["allow_praise"], result.data["bots"]["action"]) == (True, "review")
    assert "choose one of" in _read({"bots/action": "ignore"}).errors["bots/action"]


def test_a_field_missing_from_the_submission_is_an_error_not_an_empty_value() -> None:
    form = _submission(DATA)
    del form[CAP_7D]
    result = read_form(DATA_SCHEMA, DATA, form)
    assert "missing from the form" in result.errors[CAP_7D]


def test_unknown_fields_and_tunables_of_other_rules_are_kept() -> None:
    base = {**DATA, "my_rule": {"threshold": 3}}
    form = _submission(base)
    form["sneaky/field"] = ["1"]
    result = read_form(DATA_SCHEMA, base, form)
    assert result.ok
    assert result.data == base


def test_refused_submissions_render_what_was_typed_with_the_error() -> None:
    form = _submission(DATA)
    form[CAP_7D] = ["-3"]
    result = read_form(DATA_SCHEMA, DATA, form)
    fields = _flatten(build_form(DATA_SCHEMA, DATA, submitted=form, errors=result.errors))
    assert fields[CAP_7D].value == "-3"
    assert fields[CAP_7D].error is not None and "0 or more" in fields[CAP_7D].error
    assert fields[BLOCKED].error is None


def test_data_of_the_wrong_shape_renders_and_is_replaced() -> None:
    odd = {**DATA, "caps": {"per_customer_7d": "six"}, "blocked_terms": "not a list"}
    fields = _flatten(build_form(DATA_SCHEMA, odd))
    assert fields[CAP_7D].value == "six"
    assert fields[BLOCKED].value == ""
    result = _read({CAP_7D: "7", BLOCKED: "rubbish"}, data=odd)
    assert result.ok
    assert result.data["caps"] == {"per_customer_7d": 7}
    assert result.data["blocked_terms"] == ["rubbish"]
