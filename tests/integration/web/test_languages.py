"""Languages: the JSON API's errors follow ``Accept-Language`` (domain refusals, field errors,
the framework's own), pages show domain refusals in the page's language, and the language
switcher remembers the choice and goes back to a page that can be opened again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from premiere_ecoute.bootstrap import web_app
from tests.support.api import Api, api
from tests.support.pages import CSRF, browser
from tests.support.sessions import Cast, make_cast, prepare, prepared_and_started

ALBUM = "4aawyAB9vmqN3uQ7FjRGTy"
__all__ = ["api"]


def _message(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "session {sid} is already active: stop it first"),
        ("fr-FR,fr;q=0.9,en;q=0.5", "la session {sid} est déjà en cours : arrêtez-la d’abord"),
        ("it", "la sessione {sid} è già in corso: fermala prima"),
        ("de-DE, it;q=0.4", "la sessione {sid} è già in corso: fermala prima"),
    ],
)
async def test_api_refusals_follow_accept_language(
    api: Api, container: Any, accept: str | None, expected: str
) -> None:
    sid = await prepared_and_started(container, api.streamer.user)
    second = await api.http.post(
        "/api/v1/sessions", headers=api.streamer.headers, json={"album": ALBUM}
    )
    headers = {**api.streamer.headers, **({"Accept-Language": accept} if accept else {})}

    refused = await api.http.post(f"/api/v1/sessions/{second.json()['id']}/start", headers=headers)

    assert _message(refused, 409) == expected.format(sid=sid)
    assert refused.json()["error"]["code"] == "conflict"


async def test_api_field_framework_and_auth_errors_are_translated(api: Api) -> None:
    fr = {**api.streamer.headers, "Accept-Language": "fr"}

    bad_link = await api.http.post("/api/v1/sessions", headers=fr, json={"album": "nope nope"})
    missing = await api.http.post("/api/v1/sessions/1/play", headers=fr, json={})
    nowhere = await api.http.get("/api/v1/nowhere", headers=fr)
    no_token = await api.http.get("/api/v1/me", headers={"Accept-Language": "it"})
    english = await api.http.post("/api/v1/sessions/1/play", headers=api.streamer.headers, json={})

    assert _message(bad_link, 422) == (
        "Ce n’est pas un identifiant ni un lien d’album Spotify : « nope nope »"
    )
    assert _message(missing, 422) == "position: Champ obligatoire"
    assert _message(nowhere, 404) == "Introuvable"
    assert _message(no_token, 401).startswith("Invia un token API personale")
    assert _message(english, 422) == "position: Field required"


async def test_the_api_ignores_the_page_language_cookie(api: Api) -> None:
    api.http.cookies.set("locale", "fr")
    answer = await api.http.get("/api/v1/sessions/987654", headers=api.streamer.headers)
    assert _message(answer, 404) == "session 987654 does not exist"


async def test_a_page_shows_a_domain_refusal_in_its_language(container: Any) -> None:
    cast = await make_cast(container)
    app = web_app(container, run_background=False)
    active = await prepared_and_started(container, cast.streamer)
    waiting = await prepare(container, cast.streamer)
    headers = {"hx-request": "true", "x-csrf-token": CSRF}

    async with browser(container, app, cast.streamer.id) as web:
        web.cookies.set("locale", "it")
        start = await web.post(f"/sessions/{waiting}/actions/start", headers=headers)

    assert start.status_code == 409
    assert f"la sessione {active} è già in corso: fermala prima" in start.text


async def test_the_language_switcher_remembers_and_goes_back(container: Any) -> None:
    cast: Cast = await make_cast(container)
    app = web_app(container, run_background=False)

    async with browser(container, app, cast.streamer.id) as web:
        page = await web.get("/account/follows?q=str")
        switch = await web.get("/locale/fr?next=/account/follows%3Fq%3Dstr%26locale%3Dit")
        after = await web.get("/sessions")
        # A page answering a form's POST cannot be opened by a link: back to the form's page.
        from_post = await web.get(
            "/locale/it?next=/account/spotify-app",
            headers={"referer": "http://testserver/account"},
        )
        foreign = await web.get("/locale/en?next=//evil.example/x")
        unknown = await web.get("/locale/de?next=/sessions")

    assert 'href="/locale/fr?next=/account/follows%3Fq%3Dstr"' in page.text
    assert switch.status_code == 303 and switch.headers["location"] == "/account/follows?q=str"
    assert "locale=fr" in switch.headers["set-cookie"]
    assert '<html lang="fr">' in after.text
    assert from_post.headers["location"] == "/account"
    assert foreign.headers["location"] == "/"
    assert unknown.status_code == 404


async def test_a_refusal_quoting_a_lone_surrogate_is_still_a_clear_4xx(
    api: Api, container: Any
) -> None:
    sid = await prepared_and_started(container, api.streamer.user)
    body = b'{"value": "a\\ud800"}'
    headers = {**api.viewer.headers, "Content-Type": "application/json", "Accept-Language": "fr"}

    answer = await api.http.post(f"/api/v1/sessions/{sid}/votes", headers=headers, content=body)

    assert answer.status_code == 422, answer.text
    assert "« a\\ud800 » n’est pas une option" in answer.json()["error"]["message"]
