"""Source secrets: encrypted with the gateway's key, or read from the environment at use."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from gateway.domain.source_errors import InvalidSource, SecretUnavailable
from gateway.secrets import SecretBox, Secrets, env_reference
from gateway.settings import Settings, load_settings

KEY = bytes(range(32))


def test_a_sealed_secret_opens_only_for_its_source_and_key() -> None:
    box = SecretBox(KEY)
    sealed = box.seal("support", "tok-123")
    assert sealed.ciphertext is not None and b"tok-123" not in sealed.ciphertext
    assert box.open("support", sealed) == "tok-123"
    assert box.seal("support", "tok-123").ciphertext != sealed.ciphertext  # fresh nonce
    with pytest.raises(SecretUnavailable, match="copied from another source"):
        box.open("other", sealed)
    with pytest.raises(SecretUnavailable, match="stored under key"):
        SecretBox(bytes(32)).open("support", sealed)
    assert "tok" not in repr(sealed) and "tok" not in repr(box)


def test_env_references_stay_references_and_resolve_at_use(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    secrets = Secrets(Settings(data_dir=tmp_path), environ=environ)
    sealed = secrets.seal("masto", "env:GATEWAY_SOURCE_SECRET_MASTODON")
    assert sealed.env == "GATEWAY_SOURCE_SECRET_MASTODON" and sealed.ciphertext is None
    with pytest.raises(
        SecretUnavailable, match=r"\$GATEWAY_SOURCE_SECRET_MASTODON, which is not set"
    ):
        secrets.resolve("masto", sealed)
    environ["GATEWAY_SOURCE_SECRET_MASTODON"] = "from-env"
    assert secrets.resolve("masto", sealed) == "from-env"
    environ["GATEWAY_SOURCE_SECRET_MASTODON"] = "rotated"
    assert secrets.resolve("masto", sealed) == "rotated"
    assert not (tmp_path / "secrets.key").exists()  # no key needed for references


@pytest.mark.parametrize("value", ["env:", "env:1ABC", "env:WITH SPACE", "env:A-B"])
def test_malformed_env_references_are_refused(value: str) -> None:
    with pytest.raises(InvalidSource, match="environment variable name"):
        env_reference(value)


def test_the_key_file_is_created_private_on_first_use_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    sealed = Secrets(settings).seal("hook", "s3cret")
    path = tmp_path / "data" / "secrets.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text())) == 32
    # Another process (a new Secrets) reads the same key.
    assert Secrets(settings).resolve("hook", sealed) == "s3cret"


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.key"
    path.write_text(base64.b64encode(KEY).decode())
    os.chmod(path, 0o644)
    secrets = Secrets(Settings(data_dir=tmp_path))
    with pytest.raises(SecretUnavailable, match=r"chmod 600 .*secrets.key"):
        secrets.seal("hook", "s3cret")


def test_stored_secrets_without_any_key_are_reported_not_invented(tmp_path: Path) -> None:
    sealed = Secrets(Settings(data_dir=tmp_path / "a")).seal("hook", "s3cret")
    with pytest.raises(SecretUnavailable, match="no key file"):
        Secrets(Settings(data_dir=tmp_path / "b")).resolve("hook", sealed)


def test_the_key_can_come_from_the_environment(tmp_path: Path) -> None:
    encoded = base64.b64encode(KEY).decode()
    settings = load_settings({"GATEWAY_SECRET_KEY": encoded, "GATEWAY_DATA_DIR": str(tmp_path)})
    sealed = Secrets(settings).seal("hook", "s3cret")
    assert sealed.key_id == SecretBox(KEY).key_id
    assert not (tmp_path / "secrets.key").exists()
    urlsafe = base64.urlsafe_b64encode(KEY).decode()
    assert Secrets(Settings(secret_key=urlsafe)).resolve("hook", sealed) == "s3cret"
    with pytest.raises(SecretUnavailable, match="32 random bytes"):
        Secrets(Settings(secret_key="too-short")).seal("hook", "x")


def test_blank_secrets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidSource, match="must not be empty"):
        Secrets(Settings(data_dir=tmp_path)).seal("hook", "  ")


@pytest.mark.parametrize(
    "name", ["DATABASE_URL", "GATEWAY_SECRET_KEY", "HOME", "MASTODON_TOKEN", "AWS_SECRET_KEY"]
)
def test_env_references_outside_the_allow_list_are_refused(tmp_path: Path, name: str) -> None:
    secrets = Secrets(Settings(data_dir=tmp_path), environ={name: "the-database-password"})
    with pytest.raises(InvalidSource, match="GATEWAY_SOURCE_SECRET_") as refused:
        secrets.seal("masto", f"env:{name}")
    assert "the-database-password" not in str(refused.value)
    # A reference stored before the rule existed is not followed either.
    from gateway.domain.sources import SealedSecret

    with pytest.raises(SecretUnavailable, match="not allowed"):
        secrets.resolve("masto", SealedSecret(env=name))


def test_an_explicitly_listed_variable_is_allowed(tmp_path: Path) -> None:
    settings = load_settings({"GATEWAY_SOURCE_SECRET_ENV": "MASTODON_TOKEN, BSKY_PASSWORD"})
    assert settings.source_secret_env == ("MASTODON_TOKEN", "BSKY_PASSWORD")
    secrets = Secrets(
        Settings(data_dir=tmp_path, source_secret_env=settings.source_secret_env),
        environ={"MASTODON_TOKEN": "tok"},
    )
    assert secrets.resolve("m", secrets.seal("m", "env:MASTODON_TOKEN")) == "tok"
    with pytest.raises(InvalidSource, match=r"GATEWAY_SOURCE_SECRET_ENV \(MASTODON_TOKEN"):
        secrets.seal("m", "env:DATABASE_URL")


@pytest.mark.parametrize("listed", ["DATABASE_URL", "GATEWAY_SECRET_KEY", "GATEWAY_DATA_DIR", "1X"])
def test_the_allow_list_setting_cannot_name_the_gateways_own_secrets(listed: str) -> None:
    from gateway.settings import SettingsError

    with pytest.raises(SettingsError, match="GATEWAY_SOURCE_SECRET_ENV"):
        load_settings({"GATEWAY_SOURCE_SECRET_ENV": f"OK_NAME,{listed}"})
