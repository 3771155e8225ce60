"""Wiring helpers to run the real ``SpotifyClient`` against the fake in-process (tests, CLI)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI


class ASGITransportWithTimeouts(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` ignores timeouts; this one applies the request's read timeout
    so an injected "timeout" failure of the fake surfaces as ``httpx.ReadTimeout``."""

    def __init__(self, app: FastAPI) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        limit = timeouts.get("read")
        try:
            return await asyncio.wait_for(self._inner.handle_async_request(request), limit)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("fake Spotify did not answer in time", request=request) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


def fake_http_client(
    app: FastAPI, base_url: str = "http://fake-spotify", timeout: float = 5.0
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=ASGITransportWithTimeouts(app), base_url=base_url, timeout=timeout
    )
