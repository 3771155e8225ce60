"""Shared fixtures. Integration tests use a real PostgreSQL: the server of DATABASE_URL when
set (a fresh database is created on it for this run), else an embedded one in a temp dir.
Each test starts from empty tables (TRUNCATE), so tests never see each other's rows.

The "worlds" several test directories share are plugins here: their fixtures are seen by
every test (``cast``; ``world``, ``spotify_settings``, ``make_container``, ``sc``;
``app_client``, ``fake_container``, ``fake_client``)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import stamina

from premiere_ecoute.config import Settings

pytest_plugins = [
    "tests.support.sessions",
    "tests.support.spotify_world",
    "tests.support.twitch_world",
]

TEST_SECRET_KEY = "test-secret-key-" + "k" * 32
TEST_WEBHOOK_SECRET = "test-webhook-secret-0123"


@pytest.fixture(autouse=True, scope="session")
def _stamina_testing() -> Iterator[None]:
    stamina.set_testing(True, attempts=2)
    yield
    stamina.set_testing(False)


def _server_url() -> tuple[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url, None
    from premiere_ecoute.core.db import embedded_database_url

    tmp = Path(tempfile.mkdtemp(prefix="pe-test-pg-"))
    return embedded_database_url(tmp), tmp


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this test run; dropped afterwards."""
    import psycopg

    from premiere_ecoute.core import migrations

    server_url, _tmp = _server_url()
    name = f"pe_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server_url, name)
    migrations.upgrade(url)
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


APP_TABLES = (
    "events",
    "inbox",
    "worker_heartbeats",
    "chart_snapshots",
    "votes",
    "session_voters",
    "polls",
    "listening_sessions",
    "playlists",
    "tracks",
    "albums",
    "follows",
    "api_tokens",
    "web_sessions",
    "oauth_credentials",
    "users",
    "procrastinate_jobs",
    "procrastinate_periodic_defers",
    "procrastinate_events",
)


@pytest.fixture
def clean_db(database_url: str) -> str:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE")
    return database_url


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "secret_key": TEST_SECRET_KEY,
        "fake_apis": True,
        "twitch_webhook_secret": TEST_WEBHOOK_SECRET,
        "base_url": "http://testserver",
        "log_json": False,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(clean_db: str) -> Settings:
    return make_settings(database_url=clean_db)


@pytest.fixture
def fake_clock() -> Any:
    from premiere_ecoute.core.clock import FakeClock

    return FakeClock()


@pytest.fixture
def memory_ports(fake_clock: Any) -> Any:
    from tests.support.memory_ports import MemoryPorts

    return MemoryPorts(clock=fake_clock)


@pytest.fixture
async def container(settings: Settings, memory_ports: Any, fake_clock: Any) -> AsyncIterator[Any]:
    """A container on the test database with in-memory ports, broker and a fake clock."""
    from premiere_ecoute.bootstrap import build
    from premiere_ecoute.core.broker import InMemoryBroker

    c = build(
        settings,
        database_url=settings.database_url,
        broker=InMemoryBroker(),
        ports=memory_ports,
        clock=fake_clock,
        pool_size=5,
    )
    await c.start()
    try:
        yield c
    finally:
        await c.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "slow: long fault tests (several processes, kills, database restarts); "
        "deselect with -m 'not slow'",
    )
