"""The fake chat: a page per channel to type as viewers, send vote bursts, and drive polls.

Forms post back here and are redirected to the page; the same endpoints answer JSON to tests
and scripts (no ``redirect`` field).
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from premiere_ecoute.apis.twitch.fake import delivery
from premiere_ecoute.apis.twitch.fake.helix_routes import HelixError, end_poll
from premiere_ecoute.apis.twitch.fake.pages import page
from premiere_ecoute.apis.twitch.fake.state import FakeTwitch, FakeUser

VIEWER_NAMES = ("alice", "bob", "chloe", "dario", "elena", "farid", "giulia", "hugo", "ines")
DEFAULT_BURST_VALUES = tuple(str(v) for v in range(11))
MAX_BURST = 1000
BURST_CONCURRENCY = 16

_SCRIPT = """
<script>
async function refresh(){
  const r = await fetch(location.pathname.replace(/\\/$/, '') + '/messages');
  if(!r.ok) return;
  const lines = await r.json(); const list = document.getElementById('chat');
  list.replaceChildren(...lines.map(l => {
    const li = document.createElement('li'); const b = document.createElement('b');
    b.textContent = l.chatter; li.append(b, ': ' + l.text); return li; }));
  list.scrollTop = list.scrollHeight;
}
setInterval(refresh, 2000);
</script>
"""


def _channel(state: FakeTwitch, login: str) -> FakeUser:
    try:
        return state.user(login)
    except ValueError:
        raise HelixError(404, "no such channel") from None


def _random_viewer(state: FakeTwitch) -> FakeUser:
    return state.user(f"viewer_{state.rng.choice(VIEWER_NAMES)}{state.rng.randint(1, 999)}")


def _answer(redirect_to: str | None, payload: dict[str, Any]) -> Response:
    if redirect_to:
        return RedirectResponse(redirect_to, status_code=303)
    return JSONResponse(payload)


def _render(state: FakeTwitch, channel: FakeUser) -> str:
    lines = state.chat.get(channel.id, [])[-50:]
    items = "".join(
        f"<li><b>{escape(line.chatter.login)}</b>: {escape(line.text)}</li>" for line in lines
    )
    listening = len(state.subscriptions_for(channel.id, "channel.chat.message"))
    login = escape(channel.login)
    poll = state.active_poll(channel.id)
    poll_html = "<p class='note'>No poll running.</p>"
    if poll is not None:
        counts = ", ".join(f"{escape(c.title)}: {c.votes}" for c in poll.choices)
        poll_html = (
            f"<p>Poll <b>{escape(poll.title)}</b> ({counts})</p>"
            f'<form method="post" action="../polls/{poll.id}/simulate">'
            '<input type="hidden" name="redirect" value="1">'
            '<input name="ballots" type="number" min="1" max="1000" value="10"> '
            "<button>Add random ballots</button></form>"
            f'<form method="post" action="../polls/{poll.id}/end">'
            '<input type="hidden" name="redirect" value="1"><button>End poll</button></form>'
        )
    return page(
        f"#{channel.login} (fake Twitch chat)",
        f"<p class='note'>{listening} app subscription(s) listening to this chat.</p>"
        f'<ol id="chat" class="chat">{items}</ol>'
        f'<form method="post" action="{login}/send">'
        '<input type="hidden" name="redirect" value="1">'
        '<input name="text" placeholder="Type a message, e.g. 8" required autofocus> '
        '<input name="as" placeholder="as (login, empty = random)"> <button>Send</button></form>'
        f'<fieldset><legend>Crowd</legend><form method="post" action="{login}/burst">'
        '<input type="hidden" name="redirect" value="1">'
        'Send a burst of <input name="n" type="number" min="1" max="1000" value="20"> '
        'random votes among <input name="values" value="0 1 2 3 4 5 6 7 8 9 10"> '
        "<button>Send burst</button></form></fieldset>"
        f"<fieldset><legend>Poll</legend>{poll_html}</fieldset>" + _SCRIPT,
    )


def chat_router(state: FakeTwitch) -> APIRouter:
    router = APIRouter()

    @router.get("/chat/{login}", response_class=HTMLResponse)
    async def chat_page(login: str) -> str:
        return _render(state, _channel(state, login))

    @router.get("/chat/{login}/messages")
    async def messages(login: str) -> list[dict[str, str]]:
        channel = _channel(state, login)
        return [
            {"chatter": line.chatter.login, "text": line.text, "via": line.via}
            for line in state.chat.get(channel.id, [])[-50:]
        ]

    @router.post("/chat/{login}/send")
    async def send(login: str, request: Request) -> Response:
        channel = _channel(state, login)
        form = await request.form()
        text = str(form.get("text", "")).strip()
        if not text:
            raise HelixError(400, "Type a message first")
        name = str(form.get("as", "")).strip()
        chatter = _channel(state, name) if name else _random_viewer(state)
        delivered = await delivery.chat_message(state, channel, chatter, text, "chat page")
        redirect = f"../{channel.login}" if form.get("redirect") else None
        return _answer(redirect, {"chatter": chatter.login, "delivered": delivered})

    @router.post("/chat/{login}/burst")
    async def burst(login: str, request: Request) -> Response:
        channel = _channel(state, login)
        form = await request.form()
        try:
            count = min(max(int(str(form.get("n", "20"))), 1), MAX_BURST)
        except ValueError:
            raise HelixError(400, "n must be a number") from None
        values = str(form.get("values", "")).replace(",", " ").split() or DEFAULT_BURST_VALUES
        gate = asyncio.Semaphore(BURST_CONCURRENCY)
        viewers = state.rng.sample(range(1, 10_000_000), count)

        async def one(number: int) -> int:
            async with gate:
                chatter = state.user(f"viewer{number}")
                vote = state.rng.choice(values)
                return await delivery.chat_message(state, channel, chatter, vote, "burst")

        delivered = sum(await asyncio.gather(*(one(n) for n in viewers)))
        redirect = f"../{channel.login}" if form.get("redirect") else None
        return _answer(redirect, {"sent": count, "delivered": delivered})

    @router.post("/polls/{poll_id}/simulate")
    async def simulate(poll_id: str, request: Request) -> Response:
        poll = state.polls.get(poll_id)
        if poll is None or poll.status != "ACTIVE":
            raise HelixError(404, "no active poll with that id")
        form = await request.form()
        raw = form.get("ballots") or request.query_params.get("ballots") or "10"
        try:
            ballots = min(max(int(str(raw)), 1), MAX_BURST)
        except ValueError:
            raise HelixError(400, "ballots must be a number") from None
        delivery.random_ballots(state, poll, ballots)
        delivered = await delivery.poll_update(state, poll, "progress")
        votes = {c.title: c.votes for c in poll.choices}
        redirect = f"../../chat/{poll.broadcaster.login}" if form.get("redirect") else None
        return _answer(redirect, {"votes": votes, "delivered": delivered})

    @router.post("/polls/{poll_id}/end")
    async def end(poll_id: str, request: Request) -> Response:
        poll = state.polls.get(poll_id)
        if poll is None or poll.status != "ACTIVE":
            raise HelixError(404, "no active poll with that id")
        form = await request.form()
        await end_poll(state, poll, "COMPLETED")
        redirect = f"../../chat/{poll.broadcaster.login}" if form.get("redirect") else None
        return _answer(redirect, {"status": poll.status})

    return router
