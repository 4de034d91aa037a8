"""User names appear as actors in the audit log: none may pass for another or for the
gateway itself (look-alike letters, control characters, reserved actor names)."""

from __future__ import annotations

import pytest

from gateway.pipeline.accounts import check_name
from gateway.pipeline.errors import InvalidInput


@pytest.mark.parametrize("name", ["carol", "demo-agent", "dana.w", "ops_1", "a@b.example", "x"])
def test_plain_names_are_accepted(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "\uff43\uff41\uff52\uff4f\uff4c",  # full-width "carol", NFKC-equal to carol
        "\u0441\u0430rol",  # Cyrillic es and a, then "rol"
        "carol\u200b",
        "car\x00ol",
        "carol\nuser_added",
        "-carol",
        "carol smith",
        "x" * 101,
    ],
)
def test_names_that_could_pass_for_another_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="ASCII"):
        check_name(name)


@pytest.mark.parametrize("name", ["cli", "CLI", "system", "release-worker"])
def test_the_gateways_own_actor_names_are_reserved(name: str) -> None:
    with pytest.raises(InvalidInput, match="reserved"):
        check_name(name)
