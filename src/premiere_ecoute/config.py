"""Settings, read from the environment and ``.env`` (SPEC §11). Read once, in ``bootstrap``."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from premiere_ecoute.core.errors import ValidationFailed

DEV_SECRET_KEY = "dev-only-secret-key-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    environment: Literal["development", "production", "test"] = "development"
    database_url: str | None = None
    premiere_data_dir: Path = Path(".data")
    redis_url: str | None = None
    # The Redis channel's namespace; by default the database's name@host:port (core.broker).
    broker_prefix: str | None = Field(default=None, max_length=100)
    secret_key: str = DEV_SECRET_KEY
    # Former SECRET_KEYs, comma-separated: they still decrypt stored tokens during a rotation.
    secret_key_previous: str = ""
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    twitch_client_id: str = ""
    twitch_client_secret: str = ""
    twitch_webhook_secret: str = ""
    twitch_eventsub_transport: Literal["webhook", "websocket"] = "webhook"
    spotify_client_id: str = ""
    spotify_client_secret: str = ""
    admin_logins: str = ""
    bot_login: str = ""
    metrics_token: str | None = None

    twitch_api_url: str = "https://api.twitch.tv/helix"
    twitch_auth_url: str = "https://id.twitch.tv/oauth2"
    twitch_eventsub_ws_url: str = "wss://eventsub.wss.twitch.tv/ws"
    spotify_api_url: str = "https://api.spotify.com/v1"
    spotify_accounts_url: str = "https://accounts.spotify.com"

    fake_apis: bool | None = None
    log_level: str = "INFO"
    log_json: bool = True
    worker_heartbeat_s: int = Field(default=15, ge=1, le=3600)
    player_poll_s: float = Field(default=2.0, gt=0, le=60)

    @field_validator(
        "base_url", "twitch_api_url", "twitch_auth_url", "spotify_api_url", "spotify_accounts_url"
    )
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("twitch_eventsub_ws_url")
    @classmethod
    def _ws_url(cls, v: str) -> str:
        if not v.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return v

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not v.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError("must be a PostgreSQL URL (postgresql://user@host:port/db)")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a Redis URL (redis://host:port/db)")
        return v

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if self.fake_apis is None:
            # Only an instance with no credentials at all gets the fakes by default: with
            # some real ones (a Twitch app and streamers' own Spotify apps, say) the fake
            # login page must never stand in for Twitch.
            any_creds = any(
                (
                    self.twitch_client_id,
                    self.twitch_client_secret,
                    self.spotify_client_id,
                    self.spotify_client_secret,
                )
            )
            self.fake_apis = not any_creds
        if self.environment == "production":
            if self.secret_key == DEV_SECRET_KEY:
                raise ValueError("SECRET_KEY must be set in production")
            if self.fake_apis:
                raise ValueError("FAKE_APIS cannot be on in production")
        if len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters")
        if not self.twitch_webhook_secret:
            # Derived, not random: every process of one instance must verify the same way.
            digest = hmac.new(self.secret_key.encode(), b"twitch-webhook", hashlib.sha256)
            self.twitch_webhook_secret = "derived-" + digest.hexdigest()[:40]
        elif not 10 <= len(self.twitch_webhook_secret) <= 100:
            raise ValueError("TWITCH_WEBHOOK_SECRET must be 10 to 100 characters (Twitch's rule)")
        return self

    @property
    def previous_secret_keys(self) -> list[str]:
        return [k.strip() for k in self.secret_key_previous.split(",") if k.strip()]

    @property
    def base_url_missing(self) -> bool:
        """True in production when BASE_URL was not given: the default (127.0.0.1:8000) would
        send Twitch's callbacks and the OAuth redirects to a machine that is not ours."""
        return self.environment == "production" and "base_url" not in self.model_fields_set

    @property
    def use_fakes(self) -> bool:
        return bool(self.fake_apis)

    @property
    def admin_login_set(self) -> frozenset[str]:
        return frozenset(x.strip().lower() for x in self.admin_logins.split(",") if x.strip())


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one readable error."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]).upper() or "settings"
            lines.append(f"{loc}: {err['msg']}")
        raise ValidationFailed("Invalid configuration: " + "; ".join(lines)) from None


def browser_auth_urls(s: Settings) -> tuple[str, str]:
    """(Twitch OAuth base, Spotify accounts base) as a browser must reach them: with the fakes
    on, their pages are served by this app under /_fake/."""
    if s.use_fakes:
        return f"{s.base_url}/_fake/twitch/oauth2", f"{s.base_url}/_fake/spotify"
    return s.twitch_auth_url, s.spotify_accounts_url
