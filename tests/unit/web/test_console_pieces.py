"""The console's small pure pieces: settings, redirects after sign-in, CSRF, passwords."""

from __future__ import annotations

import pytest

from gateway.http.session_cookie import csrf_for_session
from gateway.pipeline.errors import InvalidInput
from gateway.pipeline.passwords import check_strength, hash_password, verify_password
from gateway.settings import Settings, SettingsError, load_settings
from gateway.web.sign_in import safe_next


def test_console_settings_have_documented_defaults_and_read_the_environment() -> None:
    s = Settings()
    assert (s.console_idle_s, s.console_absolute_s) == (3600.0, 43200.0)
    assert (s.sign_in_max_failures, s.sign_in_max_failures_per_address) == (5, 20)
    assert s.console_cookie_secure is None
    env = {
        "GATEWAY_CONSOLE_IDLE_S": "600",
        "GATEWAY_CONSOLE_ABSOLUTE_S": "7200",
        "GATEWAY_CONSOLE_COOKIE_SECURE": "true",
        "GATEWAY_SIGN_IN_WINDOW_S": "60",
        "GATEWAY_SIGN_IN_MAX_FAILURES": "3",
        "GATEWAY_SIGN_IN_MAX_FAILURES_PER_ADDRESS": "9",
    }
    s = load_settings(env)
    assert (s.console_idle_s, s.console_absolute_s, s.console_cookie_secure) == (600, 7200, True)
    assert (s.sign_in_window_s, s.sign_in_max_failures) == (60, 3)
    assert s.sign_in_max_failures_per_address == 9


@pytest.mark.parametrize("var", ["GATEWAY_CONSOLE_IDLE_S", "GATEWAY_SIGN_IN_MAX_FAILURES"])
def test_a_zero_console_limit_is_refused_naming_the_variable(var: str) -> None:
    with pytest.raises(SettingsError, match=var):
        load_settings({var: "0"})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/ui/review", "/ui/review"),
        ("/ui/audit?kind=x", "/ui/audit?kind=x"),
        ("/ui", "/ui"),
        ("https://evil.example/ui/", "/ui/"),
        ("//evil.example/ui", "/ui/"),
        ("/uix", "/ui/"),
        ("/v1/users", "/ui/"),
        ("/ui/\\evil", "/ui/"),
        ("/ui/sign-in", "/ui/"),
        (None, "/ui/"),
    ],
)
def test_after_sign_in_only_console_paths_are_followed(given: object, expected: str) -> None:
    assert safe_next(given) == expected


def test_the_csrf_token_is_per_session() -> None:
    a, b = csrf_for_session("session-a"), csrf_for_session("session-b")
    assert a != b and len(a) == 64
    assert csrf_for_session("session-a") == a


async def test_passwords_are_argon2id_hashes_that_verify_only_the_password() -> None:
    stored = await hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert await verify_password(stored, "correct horse battery")
    assert not await verify_password(stored, "correct horse batterY")
    assert not await verify_password(None, "correct horse battery")  # no password set
    assert not await verify_password("not a hash", "correct horse battery")


@pytest.mark.parametrize("bad", ["short", " leading space pw", "x" * 1025])
def test_weak_or_odd_passwords_are_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(InvalidInput, match="password"):
        check_strength(bad)
