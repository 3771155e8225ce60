"""Who may read and act on what (issue 10): every page, form action and API route of the app's
route table, tried against the sessions of streamer A (preparing, active, stopped) by A, an
admin, another streamer, a viewer and an anonymous visitor, with valid credentials of their
own (API token or browser session with its CSRF token).

The rule (SPEC §3, §9, §11; the same for the API and the pages, finding 7):
- a session's commands (API and control page) are its streamer's and the admins' only;
- the control page and its stream are the streamer's and the admins' only;
- a session being prepared is visible to its streamer and the admins only;
- the report (and its series, exports, recap and the API stream) of a stopped session is
  public; of a preparing or active session, owner/admin only;
- account pages need a login, admin pages the admin role; public pages are public.

A route the table below does not classify fails the test: a new route gets a rule when it is
added. No caller may get a 2xx (or a redirect other than to the login page) where the rule
says no; A and the admin must get a 2xx on every read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.e2e.faults.support import (
    Api,
    Browser,
    Route,
    browser_login,
    route_table,
    stack_on,
    web_user,
)

pytestmark = pytest.mark.e2e
CALLERS = ("owner", "admin", "other", "viewer", "anonymous")
STATES = ("preparing", "active", "stopped")
OWNER_ADMIN = {"owner", "admin"}
AUTHENTICATED = {"owner", "admin", "other", "viewer"}
EVERYONE = set(CALLERS)
SESSION_ACTIONS = ("start", "stop", "next", "previous", "play", "open", "close", "rate")
PLAYER_ACTIONS = ("pause", "resume", "device")

# Routes without a session: who may get a 2xx. "self": any logged-in caller, acting on their
# own account (tried anonymously only, so the matrix deletes nobody); "admin": admins only
# (tried by everyone else only); "public": anyone; "signed": nobody without Twitch's signature.
OTHER_ROUTES: dict[str, str] = {
    "GET /": "public",
    "GET /health": "public",
    "GET /ready": "public",
    "GET /metrics": "public",  # no METRICS_TOKEN here: see test_hardening for the token
    "GET /api/v1/openapi.json": "public",
    "GET /api/v1/docs": "public",
    "GET /docs/oauth2-redirect": "public",
    "GET /legal/{page}": "public",
    "GET /changelog": "public",
    "GET /locale/{code}": "public",
    "GET /retrospective": "public",
    "GET /charts": "public",
    "GET /albums/{spotify_id}": "public",
    "GET /u/{login}": "public",  # a profile its viewer made public (else 404 for everyone)
    "GET /me/ratings": "self",
    "GET /me/ratings.{fmt}": "self",
    "POST /me/ratings/visibility": "self",
    "GET /live/{login}": "public",
    "GET /live/{login}/stream": "public",
    "GET /overlay/{login}": "public",
    "GET /overlay/{login}/stream": "public",
    "GET /auth/twitch/login": "public",
    "GET /auth/twitch/callback": "public",
    "POST /webhooks/twitch": "signed",
    "POST /live/{login}/vote": "self",
    "POST /auth/logout": "public",  # logging out is harmless to anyone (CSRF-checked)
    "GET /auth/spotify/login": "self",
    "GET /auth/spotify/callback": "self",
    "POST /auth/spotify/disconnect": "self",
    "GET /api/v1/me": "self",
    "GET /api/v1/albums/search": "self",
    "GET /api/v1/sessions": "self",
    "POST /api/v1/sessions": "self",
    "GET /sessions": "self",
    "GET /sessions/new": "self",
    "GET /sessions/new/search": "self",
    "POST /sessions/new": "self",
    "GET /account": "self",
    "POST /account/role": "self",
    "POST /account/spotify-app": "self",
    "POST /account/spotify-app/remove": "self",
    "POST /account/tokens": "self",
    "POST /account/tokens/{token_id}/revoke": "self",
    "GET /account/export": "self",
    "POST /account/delete": "self",
    "POST /account/sessions/end": "self",  # log out everywhere: the caller's own sessions
    "GET /account/follows": "self",
    "GET /live-now": "self",
    "GET /live-now/stream": "self",
    "POST /account/follows": "self",
    "POST /account/follows/{streamer_id}/unfollow": "self",
    "GET /admin": "admin",
    "GET /admin/users": "admin",
    "POST /admin/users/{user_id}/role": "admin",
    "POST /admin/users/{user_id}/delete": "admin",
    "POST /admin/users/{user_id}/impersonate": "admin",
    "POST /admin/impersonation/stop": "admin",
    "GET /admin/sessions": "admin",
    "GET /admin/albums": "admin",
    "GET /admin/events": "admin",
    "GET /admin/jobs": "admin",
    "POST /admin/jobs/{job_id}/retry": "admin",
    "POST /admin/jobs/{job_id}/discard": "admin",
}
REPORT_READS = (
    "/api/v1/sessions/{session_id}/report",
    "/api/v1/sessions/{session_id}/series",
    "/api/v1/sessions/{session_id}/stream",
    "/sessions/{session_id:int}/report",
    "/sessions/{session_id:int}/report.json",
    "/sessions/{session_id:int}/report.csv",
    "/sessions/{session_id:int}/report/series.json",
    "/sessions/{session_id:int}/recap.png",
    "/api/v1/sessions/{session_id}/timeline",
    "/api/v1/sessions/{session_id}/chapters",
    "/sessions/{session_id:int}/timeline",
    "/sessions/{session_id:int}/timeline.json",
    "/sessions/{session_id:int}/chapters.txt",
)
CONTROL_READS = (
    "/sessions/{session_id:int}",
    "/sessions/{session_id:int}/stream",
    "/sessions/{session_id:int}/devices",
    "/api/v1/sessions/{session_id}/devices",
)
MANAGE_READS = ("/sessions/{session_id:int}/edit", "/sessions/{session_id:int}/delete")
DEVICE_READS = ("/sessions/{session_id:int}/devices", "/api/v1/sessions/{session_id}/devices")


def readers(route: Route, state: str) -> tuple[set[str], set[str]]:
    """(who may get a 2xx, who must) reading this session route in this state."""
    if route.path in REPORT_READS:
        public = EVERYONE if route.path.startswith("/sessions/") else AUTHENTICATED
        who = public if state == "stopped" else OWNER_ADMIN
        return who, who
    if route.path in DEVICE_READS and state == "stopped":
        return OWNER_ADMIN, set()  # "this session is over" (409), even for A
    if route.path in CONTROL_READS:
        return OWNER_ADMIN, OWNER_ADMIN
    if route.path in MANAGE_READS:
        # The edit form (preparing only) and the delete confirmation (not while active).
        return OWNER_ADMIN, set()
    if route.path == "/api/v1/sessions/{session_id}":
        # The detail of a started session: not decided by issue 10 (the live page shows it).
        return (OWNER_ADMIN if state == "preparing" else AUTHENTICATED), OWNER_ADMIN
    raise AssertionError(f"unclassified session read {route}: add it to the matrix")


def allowed_actors(route: Route, state: str, action: str | None) -> set[str]:
    """Who may get a 2xx from this session command in this state (an upper bound: A's own
    commands are not tried, they change A's sessions)."""
    if route.path == "/api/v1/sessions/{session_id}/votes":
        return AUTHENTICATED if state == "active" else set()  # a rating, by anyone logged in
    if route.path.startswith(("/api/v1/sessions/{session_id}", "/sessions/{session_id:int}/")):
        return OWNER_ADMIN
    raise AssertionError(f"unclassified session command {route}: add it to the matrix")


# --------------------------------------------------------------------------- the instance


@dataclass
class Matrix:
    base: str
    sessions: dict[str, int]
    tokens: dict[str, str]
    browsers: dict[str, Browser]
    ids: dict[str, int]
    a_token_id: int
    before: dict[str, dict[str, Any]] = field(default_factory=dict)


def _detail(api: Api, session_id: int) -> dict[str, Any]:
    """What others must not be able to change in one of A's sessions."""
    r = api.get(f"/api/v1/sessions/{session_id}")
    assert r.status_code == 200, r.text
    d = r.json()
    keep = ("status", "scale", "vote_mode", "stream_delay_s", "poll_duration_s", "playback")
    current = d.get("current_track") or {}
    return {k: d.get(k) for k in keep} | {
        "track": current.get("position"),
        "votes_open": d.get("votes_open"),
    }


@pytest.fixture(scope="module")
def matrix(server_url: str) -> Iterator[Matrix]:
    with stack_on(server_url) as stack:
        web = stack.web("web").start()
        logins = {
            "owner": ("streamera", "streamer"),
            "admin": ("faultadmin", "admin"),
            "other": ("streamerb", "streamer"),
            "viewer": ("viewerc", "viewer"),
        }
        # A goes through the CLI, which links the fake Spotify too; the others log in.
        tokens = {"owner": stack.user("streamera")}
        tokens |= {
            who: web_user(web.base, login) for who, (login, _) in logins.items() if who != "owner"
        }
        tokens["owner-spare"] = web_user(web.base, "streamera", token_name="spare")
        owner = Api(web.base, tokens["owner"])
        stopped = owner.prepare(playback="spotify")
        owner.start(stopped)
        owner.stop(stopped)
        active = owner.prepare(playback="spotify")
        owner.start(active)
        preparing = owner.prepare(playback="spotify")
        ids = {who: Api(web.base, t).me()["id"] for who, t in tokens.items() if who in logins}
        browsers = {who: browser_login(web.base, login) for who, (login, _) in logins.items()}
        browsers["anonymous"] = browser_login(web.base, None)
        assert all(b.csrf for who, b in browsers.items() if who != "anonymous")
        m = Matrix(
            web.base,
            {"preparing": preparing, "active": active, "stopped": stopped},
            tokens,
            browsers,
            ids,
            a_token_id=_token_id(browsers["owner"], "spare"),
        )
        m.before = {state: _detail(owner, sid) for state, sid in m.sessions.items()}
        try:
            yield m
        finally:
            for browser in browsers.values():
                browser.close()


def _token_id(browser: Browser, name: str) -> int:
    """The id of A's token called ``name``, as A's account page shows it."""
    page = browser.client.get("/account").text
    found = re.search(rf"<td>{name}</td>.*?/account/tokens/(\d+)/revoke", page, re.S)
    assert found, f"no token {name!r} on the account page"
    return int(found.group(1))


# --------------------------------------------------------------------------- requests


JSON_BODIES: dict[str, Any] = {
    "PATCH": {"stream_delay_s": 3},
    "/play": {"position": 2},
    "/votes": {"value": "5"},
}
FORM = {
    "value": "5",
    "position": "2",
    "device_id": "fake-device",
    "role": "admin",
    "login": "streamera",
    "name": "matrix",
}


def _request(m: Matrix, caller: str, route: Route, url: str) -> httpx.Response:
    """``route`` at ``url`` as ``caller`` would send it, with their own valid credentials:
    an API token for the API, the browser session (and its CSRF token) for the rest."""
    kwargs: dict[str, Any] = {}
    if route.path.startswith("/api/"):
        client = httpx.Client(base_url=m.base, timeout=20)
        if caller != "anonymous":
            kwargs["headers"] = {"Authorization": f"Bearer {m.tokens[caller]}"}
        body = next((b for k, b in JSON_BODIES.items() if url.endswith(k)), None)
        if route.method == "PATCH":
            body = JSON_BODIES["PATCH"]
        if body is not None:
            kwargs["json"] = body
    else:
        browser = m.browsers[caller]
        client = browser.client
        kwargs["headers"] = {"Accept": "text/html", "HX-Request": "true"}
        if route.method == "POST":
            kwargs["data"] = {**FORM, "csrf_token": browser.csrf or ""}
    try:
        if route.path.endswith("/stream"):
            with client.stream(route.method, url, **kwargs) as r:
                return httpx.Response(r.status_code, headers=r.headers)
        return client.request(route.method, url, **kwargs)
    finally:
        if route.path.startswith("/api/"):
            client.close()


def _got_through(r: httpx.Response) -> bool:
    """A 2xx, or a redirect anywhere but to the login page (a form's success)."""
    if r.is_success:
        return True
    if r.is_redirect:
        return "/auth/twitch/login" not in r.headers.get("location", "")
    return False


def _urls(route: Route, m: Matrix, session_id: int | None) -> list[tuple[str | None, str]]:
    values: dict[str, Any] = {
        "session_id": session_id,
        "login": "streamera",
        "page": "privacy",
        "token_id": m.a_token_id,
        "streamer_id": m.ids["owner"],
        "user_id": m.ids["owner"],
        "job_id": 1,
        "code": "fr",
        "spotify_id": "4aawyAB9vmqN3uQ7FjRGTy",
        "fmt": "json",
    }
    if "action" in route.params:
        return [(a, route.url(action=a, **values)) for a in SESSION_ACTIONS + PLAYER_ACTIONS]
    return [(None, route.url(**values))]


# --------------------------------------------------------------------------- the matrix


ROUTES = route_table()
SESSION_ROUTES = [r for r in ROUTES if "session_id" in r.params]
OTHER = [r for r in ROUTES if "session_id" not in r.params]


def _session_params() -> Iterator[Any]:
    for route in SESSION_ROUTES:
        for caller in CALLERS:
            if route.method != "GET" and caller in OWNER_ADMIN:
                continue  # their commands would change A's sessions; they may anyway
            yield pytest.param(route, caller, id=f"{route}-{caller}")


@pytest.mark.parametrize(("route", "caller"), list(_session_params()))
def test_session_routes_follow_the_ownership_rule(
    matrix: Matrix, route: Route, caller: str
) -> None:
    wrong = []
    for state in STATES:
        for action, url in _urls(route, matrix, matrix.sessions[state]):
            if route.method == "GET":
                may, must = readers(route, state)
            else:
                may, must = allowed_actors(route, state, action), set()
            if caller in may and caller not in must:
                continue
            r = _request(matrix, caller, route, url)
            if _got_through(r) != (caller in may):
                wrong.append(f"{state} {url}: {r.status_code} {r.text[:80]!r}")
    assert not wrong, f"{caller} on {route}:\n" + "\n".join(wrong)


def _other_params() -> Iterator[Any]:
    """The (route, caller) pairs with something to check: public reads by everyone, account
    routes anonymously, admin routes by everyone else (and admin reads by the admin), signed
    routes by everyone; an unclassified route once, to fail."""
    for route in OTHER:
        rule = OTHER_ROUTES.get(str(route))
        for caller in CALLERS:
            if rule == "public" and route.method != "GET":
                continue  # a harmless public form (log out): nothing of A's at stake
            if rule == "self" and caller != "anonymous":
                continue  # acting on their own account (deleting it, say) is theirs to do
            if rule == "admin" and caller == "admin" and route.method != "GET":
                continue  # the admin's commands on A are the admin's right
            if rule is None and caller != "anonymous":
                continue
            yield pytest.param(route, caller, id=f"{route}-{caller}")


@pytest.mark.parametrize(("route", "caller"), list(_other_params()))
def test_other_routes_follow_their_rule(matrix: Matrix, route: Route, caller: str) -> None:
    rule = OTHER_ROUTES.get(str(route))
    assert rule is not None, f"{route} is not in the matrix: give it a rule in OTHER_ROUTES"
    ((_, url),) = _urls(route, matrix, None)
    r = _request(matrix, caller, route, url)
    if rule == "public":
        refused = r.status_code in (401, 403) or (
            r.is_redirect and "/auth/twitch/login" in r.headers.get("location", "")
        )
        assert not refused, f"public {route} refused to {caller}: {r.status_code}"
    elif rule == "admin" and caller == "admin":
        assert _got_through(r), f"admin refused {route}: {r.status_code}"
    else:
        assert not _got_through(r), f"{caller} got through {route} ({url}): {r.status_code}"


@pytest.mark.parametrize("caller", ["other", "viewer"])
def test_nobody_else_revokes_a_token_of_a(matrix: Matrix, caller: str) -> None:
    browser = matrix.browsers[caller]
    r = browser.client.post(
        f"/account/tokens/{matrix.a_token_id}/revoke", data={"csrf_token": browser.csrf or ""}
    )
    assert r.status_code != 500
    still = httpx.get(
        matrix.base + "/api/v1/me",
        headers={"Authorization": f"Bearer {matrix.tokens['owner-spare']}"},
        timeout=10,
    )
    assert still.status_code == 200, f"{caller} revoked A's token ({r.status_code})"


def test_the_api_refuses_the_browser_session_cookie(matrix: Matrix) -> None:
    """A's browser cookie alone opens no API route (a cross-site form could send it)."""
    client = matrix.browsers["owner"].client
    for state, sid in matrix.sessions.items():
        for path in ("", "/report", "/stop", "/votes/open"):
            method = "GET" if path in ("", "/report") else "POST"
            r = client.request(method, f"{matrix.base}/api/v1/sessions/{sid}{path}")
            assert r.status_code == 401, (
                f"{method} {path} ({state}) with A's cookie: {r.status_code}"
            )


@pytest.mark.parametrize(
    "caller",
    ["admin", "other", "viewer"],
)
def test_the_api_and_the_pages_give_the_same_answer_on_reports(matrix: Matrix, caller: str) -> None:
    """Whatever the rule is, the API and the pages apply the same one (finding 7)."""
    pairs = [
        ("/api/v1/sessions/{sid}/report", "/sessions/{sid}/report.json"),
        ("/api/v1/sessions/{sid}/series", "/sessions/{sid}/report/series.json"),
    ]
    api = Api(matrix.base, matrix.tokens[caller])
    pages = matrix.browsers[caller].client
    differ = []
    for state, sid in matrix.sessions.items():
        for api_path, page_path in pairs:
            by_api = api.get(api_path.format(sid=sid)).is_success
            by_page = pages.get(page_path.format(sid=sid)).is_success
            if by_api != by_page:
                differ.append(f"{state}: API {by_api}, page {by_page} ({api_path})")
    assert not differ, "\n".join(differ)


def test_a_sessions_are_as_a_left_them(matrix: Matrix) -> None:
    """Runs last: none of the refused commands above changed anything of A's."""
    owner = Api(matrix.base, matrix.tokens["owner"])
    after = {state: _detail(owner, sid) for state, sid in matrix.sessions.items()}
    assert after == matrix.before
