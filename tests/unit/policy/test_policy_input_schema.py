"""The committed JSON Schema of the policy input matches the Python Struct."""

from __future__ import annotations

from pathlib import Path

import msgspec

from gateway.domain.policy_input import PolicyInput, input_schema_json

SCHEMA = Path(__file__).resolve().parents[3] / "policies" / "input.schema.json"


def test_committed_schema_is_current() -> None:
    assert SCHEMA.read_bytes() == input_schema_json(), (
        "policies/input.schema.json is stale: run `python -m gateway policy schema`"
    )


def test_schema_names_every_input_field() -> None:
    schema = msgspec.json.decode(SCHEMA.read_bytes())
    policy_input = schema["$defs"]["PolicyInput"]
    assert set(policy_input["properties"]) == set(PolicyInput.__struct_fields__)
    assert set(schema["$defs"]["CustomerInput"]["properties"]) >= {
        "opted_out",
        "contacts_24h",
        "contacts_7d",
        "contacts_30d",
        "thread_replies",
    }
