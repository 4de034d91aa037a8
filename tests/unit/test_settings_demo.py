"""Demo mode is on only with the embedded database or when asked for explicitly, and the
database a process runs on is described without its credentials."""

from __future__ import annotations

import pytest

from gateway.settings import Settings, SettingsError, database_label, demo_enabled, load_settings

PRODUCTION = "postgresql://gateway:s3cret-pw@db.internal.example:6432/engagement?sslmode=require"


def test_demo_is_on_by_default_with_the_embedded_database() -> None:
    settings = load_settings({})
    assert settings.database_url is None
    assert demo_enabled(settings) is True


def test_demo_is_off_by_default_with_an_external_database() -> None:
    settings = load_settings({"DATABASE_URL": PRODUCTION})
    assert demo_enabled(settings) is False


@pytest.mark.parametrize("value", ["true", "1", "yes", "on", "TRUE"])
def test_an_explicit_gateway_demo_turns_demo_on_with_an_external_database(value: str) -> None:
    settings = load_settings({"DATABASE_URL": PRODUCTION, "GATEWAY_DEMO": value})
    assert demo_enabled(settings) is True


def test_an_explicit_gateway_demo_false_turns_demo_off_with_the_embedded_database() -> None:
    assert demo_enabled(load_settings({"GATEWAY_DEMO": "false"})) is False


def test_a_bad_gateway_demo_value_is_an_error_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="GATEWAY_DEMO"):
        load_settings({"DATABASE_URL": PRODUCTION, "GATEWAY_DEMO": "maybe"})


def test_settings_built_in_code_follow_the_same_rule() -> None:
    assert demo_enabled(Settings()) is True
    assert demo_enabled(Settings(database_url=PRODUCTION)) is False
    assert demo_enabled(Settings(database_url=PRODUCTION, demo=True)) is True


def test_the_database_label_names_host_port_and_database_never_credentials() -> None:
    label = database_label(load_settings({"DATABASE_URL": PRODUCTION}))
    assert label == "db.internal.example:6432/engagement"
    assert "s3cret" not in label and "gateway@" not in label


def test_the_database_label_of_a_socket_dsn_and_of_the_embedded_database() -> None:
    socket = "postgresql://app:pw@/engagement?host=/var/run/postgresql"
    assert database_label(Settings(database_url=socket)) == "/var/run/postgresql/engagement"
    embedded = database_label(load_settings({"GATEWAY_DATA_DIR": "/srv/egw"}))
    assert embedded == "embedded PostgreSQL in /srv/egw"
