"""The baselines: the least a process must do for the same requests.

- ``POST /webhooks/twitch``: checks the EventSub HMAC-SHA256 signature (message id +
  timestamp + raw body) and answers 204; 403 when it does not match. Nothing is stored.
- With ``BARE_BROADCAST=1`` it also reads the chat message of a signed delivery, keeps each
  chatter's latest rating in memory and pushes ``{"session": {"votes": n}}`` to every SSE
  client: a bare sse-starlette broadcast, one frame encoded once and shared. Pushes are
  coalesced as the app's are (the first at once, then at most one every ``BARE_COALESCE_MS``,
  default 100): without it a 100 votes/s stream to 10,000 clients is a million frames a second.
- ``GET /live/{login}/stream``, ``/overlay/{login}/stream``, ``/api/v1/sessions/{id}/stream``:
  sse-starlette streams of that broadcast (a snapshot first, then updates), the same paths and
  frame shape as the app's, so the same clients measure both.

Served by uvicorn with the options ``premiere-ecoute serve`` uses (one process, uvloop and
httptools when installed, no access log)::

    BARE_SECRET=... .venv/bin/python bench/bare_app.py --port 8100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator

import uvicorn
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SECRET = os.environ.get("BARE_SECRET", "bench-webhook-secret-0123456789").encode()
BROADCAST = os.environ.get("BARE_BROADCAST", "0") == "1"
COALESCE_S = float(os.environ.get("BARE_COALESCE_MS", "100")) / 1000

ratings: dict[str, str] = {}
clients: set[asyncio.Queue[bytes]] = set()


def frame(event: str, data: object) -> bytes:
    return f"event: {event}\r\ndata: {json.dumps(data, separators=(',', ':'))}\r\n\r\n".encode()


async def webhook(request: Request) -> Response:
    body = await request.body()
    h = request.headers
    mac = hmac.new(SECRET, digestmod=hashlib.sha256)
    mac.update(h.get("twitch-eventsub-message-id", "").encode())
    mac.update(h.get("twitch-eventsub-message-timestamp", "").encode())
    mac.update(body)
    expected = ("sha256=" + mac.hexdigest()).encode()
    given = h.get("twitch-eventsub-message-signature", "").encode()
    if not hmac.compare_digest(expected, given):
        return JSONResponse({"error": {"code": "forbidden", "message": "bad signature"}}, 403)
    if BROADCAST:
        event = json.loads(body)["event"]
        ratings[event["chatter_user_id"]] = event["message"]["text"]
        changed.set()
    return Response(status_code=204)


changed = asyncio.Event()


async def flusher() -> None:
    loop = asyncio.get_running_loop()
    last = 0.0
    while True:
        await changed.wait()
        wait = last + COALESCE_S - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        changed.clear()
        last = loop.time()
        update = frame("update", {"session": {"votes": len(ratings)}})
        for q in clients:
            if not q.full():
                q.put_nowait(update)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    task = asyncio.create_task(flusher())
    yield
    task.cancel()


async def events() -> AsyncIterator[bytes]:
    q: asyncio.Queue[bytes] = asyncio.Queue(maxsize=64)
    clients.add(q)
    try:
        yield frame("snapshot", {"session": {"votes": len(ratings)}})
        while True:
            yield await q.get()
    finally:
        clients.discard(q)


async def stream(request: Request) -> EventSourceResponse:
    return EventSourceResponse(events(), ping=15)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "clients": len(clients)})


app = Starlette(
    routes=[
        Route("/webhooks/twitch", webhook, methods=["POST"]),
        Route("/live/{login}/stream", stream),
        Route("/overlay/{login}/stream", stream),
        Route("/api/v1/sessions/{session_id}/stream", stream),
        Route("/health", health),
    ],
    lifespan=lifespan,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8100)
    args = ap.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
        lifespan="on",
    )


if __name__ == "__main__":
    main()
