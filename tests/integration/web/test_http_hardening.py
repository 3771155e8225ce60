"""The HTTP edges of issue 10, in-process: a database outage answers 503 with Retry-After
(finding 2), a hostile X-Request-Id is replaced (4), security headers (3), /metrics' scheme
(9) and 405's Allow (9)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from premiere_ecoute.bootstrap import build, web_app
from tests.conftest import make_settings

pytestmark = pytest.mark.asyncio
METRICS_TOKEN = "metrics-token-0123456789"


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def web(container: Any) -> AsyncIterator[httpx.AsyncClient]:
    container.kernel.settings.metrics_token = METRICS_TOKEN
    async with _client(web_app(container, run_background=False)) as client:
        yield client


@pytest.fixture
async def no_database() -> AsyncIterator[httpx.AsyncClient]:
    """An app whose database refuses connections (a stopped PostgreSQL)."""
    from premiere_ecoute.core.broker import InMemoryBroker

    settings = make_settings(database_url="postgresql://nobody@127.0.0.1:9/stopped")
    c = build(settings, broker=InMemoryBroker())
    async with _client(web_app(c, run_background=False)) as client:
        yield client
    await c.stop()


async def test_a_database_outage_answers_503_with_retry_after(
    no_database: httpx.AsyncClient,
) -> None:
    api = await no_database.get("/api/v1/me", headers={"Authorization": "Bearer pe_x"})
    assert api.status_code == 503 and api.headers["retry-after"] == "5"
    assert api.json()["error"]["code"] == "service_unavailable"
    page = await no_database.get("/live/someone", headers={"Accept": "text/html"})
    assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert page.headers["content-type"].startswith("text/html")
    assert "briefly unavailable" in page.text


async def test_a_hostile_request_id_is_replaced(web: httpx.AsyncClient) -> None:
    for value in (b"\xff", b"abc\xc3\x28", b"a b", b"x" * 65):
        r = await web.get("/health", headers=[(b"X-Request-Id", value)])
        assert r.status_code == 200
        assert len(r.headers["x-request-id"]) == 32 and r.headers["x-request-id"].isalnum()
    kept = await web.get("/health", headers={"X-Request-Id": "trace-1234.abc"})
    assert kept.headers["x-request-id"] == "trace-1234.abc"


async def test_security_headers(web: httpx.AsyncClient) -> None:
    home = await web.get("/", headers={"Accept": "text/html"})
    csp = home.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert home.headers["x-frame-options"] == "DENY"
    assert home.headers["x-content-type-options"] == "nosniff"
    assert home.headers["referrer-policy"]
    assert "strict-transport-security" not in home.headers  # http:// base URL
    overlay = await web.get("/overlay/nobody")
    assert "frame-ancestors *" in overlay.headers["content-security-policy"]
    assert "x-frame-options" not in overlay.headers


async def test_metrics_want_a_bearer_scheme_in_any_case(web: httpx.AsyncClient) -> None:
    def get(auth: str) -> Any:
        return web.get("/metrics", headers={"Authorization": auth})

    assert (await get(f"bearer {METRICS_TOKEN}")).status_code == 200
    assert (await get(f"BEARER {METRICS_TOKEN}")).status_code == 200
    assert (await get(METRICS_TOKEN)).status_code == 401
    assert (await get(f"Basic {METRICS_TOKEN}")).status_code == 401


async def test_405_lists_every_method_of_the_path(web: httpx.AsyncClient) -> None:
    r = await web.put("/api/v1/sessions/1")
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "PATCH", "DELETE"}
