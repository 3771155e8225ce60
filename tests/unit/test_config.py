from __future__ import annotations

from pathlib import Path

import pytest

from premiere_ecoute.config import load_settings
from premiere_ecoute.core.errors import ValidationFailed


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "TWITCH_CLIENT_ID",
        "SPOTIFY_CLIENT_ID",
        "TWITCH_WEBHOOK_SECRET",
        "FAKE_APIS",
        "ENVIRONMENT",
        "BASE_URL",
        "TWITCH_EVENTSUB_TRANSPORT",
        "ADMIN_LOGINS",
        "METRICS_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_run_with_fakes_and_an_embedded_database() -> None:
    s = load_settings()
    assert s.database_url is None and s.use_fakes and s.base_url == "http://127.0.0.1:8000"
    assert 10 <= len(s.twitch_webhook_secret) <= 100


def test_real_credentials_turn_the_fakes_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWITCH_CLIENT_ID", "abc")
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "def")
    assert load_settings().use_fakes is False


def test_any_real_credential_turns_the_fakes_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # A Twitch app alone (streamers bring their own Spotify apps): never the fake login page.
    monkeypatch.setenv("TWITCH_CLIENT_ID", "abc")
    assert load_settings().use_fakes is False
    monkeypatch.setenv("FAKE_APIS", "1")  # unless asked for explicitly
    assert load_settings().use_fakes is True


def test_derived_webhook_secret_is_the_same_in_every_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import subprocess
    import sys

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    code = (
        "from premiere_ecoute.config import load_settings\n"
        "print(load_settings().twitch_webhook_secret)"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert other == load_settings().twitch_webhook_secret
    monkeypatch.setenv("SECRET_KEY", "t" * 40)
    assert load_settings().twitch_webhook_secret != other  # derived from the key


def test_env_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ADMIN_LOGINS=Alice, bob\nMETRICS_TOKEN=t0k\n")
    s = load_settings()
    assert s.admin_login_set == {"alice", "bob"} and s.metrics_token == "t0k"


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("REDIS_URL", "http://x", "REDIS_URL"),
        ("BASE_URL", "ftp://x", "BASE_URL"),
        ("TWITCH_EVENTSUB_TRANSPORT", "pigeon", "TWITCH_EVENTSUB_TRANSPORT"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("TWITCH_WEBHOOK_SECRET", "tiny", "TWITCH_WEBHOOK_SECRET"),
        ("PORT", "70000", "PORT"),
    ],
)
def test_bad_values_give_one_readable_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationFailed) as exc:
        load_settings()
    assert needle in exc.value.message and "Invalid configuration" in exc.value.message


def test_production_refuses_the_development_secret_and_the_fakes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationFailed, match="SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("SECRET_KEY", "p" * 40)
    with pytest.raises(ValidationFailed, match="FAKE_APIS"):
        load_settings()


def test_production_without_base_url_is_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "p" * 40)
    monkeypatch.setenv("FAKE_APIS", "0")
    assert load_settings(_env_file=None).base_url_missing
    monkeypatch.setenv("BASE_URL", "https://premiere.example")
    assert not load_settings(_env_file=None).base_url_missing
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.delenv("BASE_URL")
    assert not load_settings(_env_file=None).base_url_missing


def test_the_redis_channel_is_named_after_the_instance() -> None:
    from premiere_ecoute.core.broker import channel_for

    one = channel_for(None, "postgresql://u@db.example:5433/premiere")
    assert one == "premiere_ecoute:premiere@db.example:5433"
    assert channel_for(None, "postgresql://u@db.example:5433/staging") != one
    assert channel_for("blue team", "postgresql://x/y") == "premiere_ecoute:blue_team"
