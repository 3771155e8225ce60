"""Fixtures of the fault tests: a fresh database per stack (on the server of DATABASE_URL, or on
a throwaway cluster), stacks of processes on it, a throwaway cluster to stop and start, and
Redis database numbers of their own."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.e2e.faults.support import (
    Api,
    PgCluster,
    Stack,
    Web,
    own_cluster,
    stack_on,
    start_all,
    web_user,
)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """The PostgreSQL server the stacks create their databases on."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    with own_cluster() as cluster:
        yield cluster.url


@pytest.fixture
def make_stack(server_url: str) -> Iterator[Callable[..., Stack]]:
    with ExitStack() as stacks:

        def make(**extra_env: str) -> Stack:
            return stacks.enter_context(stack_on(server_url, **extra_env))

        yield make


@dataclass
class Served:
    """One web process and a worker (outside development only workers ingest votes), a
    streamer ``streamera`` with an API token and a running session: for tests that only need
    an instance to talk to."""

    stack: Stack
    web: Web
    api: Api
    session_id: int


@pytest.fixture(scope="module")
def served(server_url: str) -> Iterator[Served]:
    with stack_on(server_url) as stack:
        web = stack.web("web")
        start_all(web, stack.worker(base_url=web.base))
        api = Api(web.base, web_user(web.base, "streamera"))
        yield Served(stack, web, api, api.running_session())


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster of this test's own, started; it may stop and start it."""
    with own_cluster() as cluster:
        yield cluster


@pytest.fixture
def redis_url() -> Callable[[], str]:
    """Redis URLs on the server of TEST_REDIS_URL, each on a database number of its own."""
    base = os.environ.get("TEST_REDIS_URL")
    if not base:
        pytest.skip("TEST_REDIS_URL is not set")
    try:
        import redis

        redis.Redis.from_url(base, socket_connect_timeout=2).ping()
    except Exception as exc:
        pytest.skip(f"Redis at TEST_REDIS_URL is not reachable: {exc}")
    used: set[int] = set()

    def make() -> str:
        number = random.choice([n for n in range(1, 16) if n not in used])
        used.add(number)
        parts = urlsplit(base)
        return urlunsplit((parts.scheme, parts.netloc, f"/{number}", "", ""))

    return make
