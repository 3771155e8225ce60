"""`/account` and `/account/follows`: connections, role switch, Spotify app, API tokens,
export, deletion and follows, each with its refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select, update

from premiere_ecoute.accounts.models import ApiToken, Follow, OAuthCredential, User
from premiere_ecoute.core.crypto import hash_token
from premiere_ecoute.core.event_store import StoredEventRow
from premiere_ecoute.demo import create_user
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.models import ListeningSession, Vote
from premiere_ecoute.sessions.queries import live_followed
from tests.support.pages import CSRF, browser, form, page_app
from tests.support.sessions import prepare, prepared_and_started, stop

pytestmark = pytest.mark.asyncio


async def _user(c: Any, user_id: int) -> User | None:
    async with c.db.session() as s:
        return await s.get(User, user_id)


async def _event_types(c: Any, stream: str) -> list[str]:
    async with c.db.session() as s:
        rows = await s.scalars(
            select(StoredEventRow.type)
            .where(StoredEventRow.stream == stream)
            .order_by(StoredEventRow.version)
        )
        return list(rows)


async def test_account_page_sends_anonymous_visitors_to_the_twitch_login(container: Any) -> None:
    async with browser(container, page_app(container)) as client:
        response = await client.get("/account")

    assert response.status_code == 303
    assert response.headers["location"] == "/auth/twitch/login"


async def test_account_page_shows_connections_and_a_csrf_token(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with container.db.session() as s, s.begin():
        await s.execute(
            update(OAuthCredential)
            .where(OAuthCredential.user_id == viewer.id, OAuthCredential.provider == "spotify")
            .values(status="needs_reconnect")
        )
    async with browser(container, page_app(container), viewer.id) as client:
        response = await client.get("/account")

    assert response.status_code == 200
    assert "Connected" in response.text and "Needs reconnect" in response.text
    assert 'href="/auth/spotify/login"' in response.text
    assert 'action="/auth/spotify/disconnect"' in response.text
    assert f'name="csrf_token" value="{CSRF}"' in response.text


async def test_account_page_is_translated(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        response = await client.get("/account?locale=fr")

    assert "Jetons d'API personnels" in response.text


async def test_a_form_without_the_csrf_token_is_refused(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        missing = await client.post("/account/role", data={"role": "streamer"})
        wrong = await client.post(
            "/account/role", data={"role": "streamer", "csrf_token": "forged"}
        )

    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert "This form has expired" in wrong.text
    assert (await _user(container, viewer.id)).role == "viewer"  # type: ignore[union-attr]


async def test_the_csrf_token_may_come_in_a_header(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        response = await client.post(
            "/account/role", data={"role": "streamer"}, headers={"x-csrf-token": CSRF}
        )

    assert response.status_code == 303
    assert (await _user(container, viewer.id)).role == "streamer"  # type: ignore[union-attr]


async def test_a_viewer_switches_to_streamer_and_the_change_is_recorded(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        response = await client.post("/account/role", data=form(role="streamer"))
        page = await client.get("/account")

    assert response.status_code == 303
    assert "You are now a streamer." in page.text
    assert "RoleChanged" in await _event_types(container, f"user-{viewer.id}")


async def test_the_bot_cannot_change_its_own_role(container: Any) -> None:
    bot = await create_user(container, "botone", "bot")
    async with browser(container, page_app(container), bot.id) as client:
        response = await client.post("/account/role", data=form(role="streamer"))

    assert response.status_code == 403
    assert "ask an admin" in response.text
    assert (await _user(container, bot.id)).role == "bot"  # type: ignore[union-attr]


async def test_a_new_token_is_shown_once_stored_hashed_and_works(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        created = await client.post("/account/tokens", data=form(name="stream deck"))
        shown = await client.get(created.headers["location"])
        token = shown.text.split('class="token-value">')[1].split("<")[0]
        later = await client.get("/account")
        me = await client.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
    async with container.db.session() as s:
        row = await s.scalar(select(ApiToken).where(ApiToken.user_id == viewer.id))

    assert created.status_code == 303 and shown.headers["cache-control"] == "no-store"
    assert row is not None and row.token_hash == hash_token(token) and row.name == "stream deck"
    assert token not in later.text and row.prefix in later.text
    assert me.status_code == 200 and me.json()["login"] == "viewerone"


async def test_a_token_without_a_name_is_refused(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        response = await client.post("/account/tokens", data=form(name="   "))

    assert response.status_code == 422
    assert "Give the token a name" in response.text


async def test_a_revoked_token_stops_working_and_cannot_be_revoked_twice(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    other = await create_user(container, "viewertwo", "viewer")
    app = page_app(container)
    async with browser(container, app, viewer.id) as client:
        created = await client.post("/account/tokens", data=form(name="bot"))
        shown = await client.get(created.headers["location"])
        token = shown.text.split('class="token-value">')[1].split("<")[0]
        async with container.db.session() as s:
            token_id = await s.scalar(select(ApiToken.id).where(ApiToken.user_id == viewer.id))
        revoked = await client.post(f"/account/tokens/{token_id}/revoke", data=form())
        again = await client.post(f"/account/tokens/{token_id}/revoke", data=form())
        me = await client.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
    async with browser(container, app, other.id) as client:
        foreign = await client.post(f"/account/tokens/{token_id}/revoke", data=form())

    assert (revoked.status_code, again.status_code, foreign.status_code) == (303, 409, 404)
    assert me.status_code == 401
    assert "ApiTokenRevoked" in await _event_types(container, f"user-{viewer.id}")


async def test_a_streamers_spotify_app_secret_is_stored_encrypted(container: Any) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    client_id, secret = "a" * 32, "S3cr3t" * 5
    async with browser(container, page_app(container), streamer.id) as client:
        saved = await client.post(
            "/account/spotify-app", data=form(client_id=client_id, client_secret=secret)
        )
        page = await client.get("/account")
    user = await _user(container, streamer.id)

    assert saved.status_code == 303
    assert user is not None and user.spotify_client_id == client_id
    assert user.spotify_client_secret_enc and secret not in user.spotify_client_secret_enc
    assert container.encryptor.decrypt(user.spotify_client_secret_enc) == secret
    assert client_id in page.text and secret not in page.text


async def test_spotify_app_credentials_are_checked_and_can_be_removed(container: Any) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    viewer = await create_user(container, "viewerone", "viewer")
    app = page_app(container)
    async with browser(container, app, streamer.id) as client:
        bad = await client.post(
            "/account/spotify-app", data=form(client_id="a" * 32, client_secret="x y")
        )
        await client.post(
            "/account/spotify-app", data=form(client_id="b" * 32, client_secret="c" * 32)
        )
        removed = await client.post("/account/spotify-app/remove", data=form())
    async with browser(container, app, viewer.id) as client:
        refused = await client.post(
            "/account/spotify-app", data=form(client_id="b" * 32, client_secret="c" * 32)
        )
    user = await _user(container, streamer.id)

    assert (bad.status_code, removed.status_code, refused.status_code) == (422, 303, 403)
    assert "client secret should be 16 to 64" in bad.text
    assert user is not None and user.spotify_client_id is None
    assert user.spotify_client_secret_enc is None


async def test_the_export_holds_profile_follows_votes_and_events(container: Any) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    viewer = await create_user(container, "viewerone", "viewer")
    session_id = await prepared_and_started(container, streamer)
    await container.bus.execute(cmd.CastVote(session_id=session_id, actor_id=viewer.id, value="7"))
    app = page_app(container)
    async with browser(container, app, viewer.id) as client:
        await client.post("/account/follows", data=form(login="streamerone"))
        response = await client.get("/account/export")
    data = json.loads(response.text)

    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert data["profile"]["login"] == "viewerone"
    assert [f["login"] for f in data["follows"]] == ["streamerone"]
    assert [(v["session_id"], v["value"], v["streamer"]) for v in data["votes"]] == [
        (session_id, "7", "streamerone")
    ]
    assert {"UserRegistered", "StreamerFollowed"} <= {e["type"] for e in data["events"]}
    assert {c["provider"] for c in data["connections"]} == {"twitch", "spotify"}
    assert "access_token" not in response.text.lower().replace("access_token_enc", "")


async def test_deleting_the_account_requires_typing_the_login(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        response = await client.post("/account/delete", data=form(confirm_login="viewer"))

    assert response.status_code == 422
    assert "Type the login viewerone exactly" in response.text
    assert await _user(container, viewer.id) is not None


async def test_deleting_the_account_removes_its_data_and_is_recorded(container: Any) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    other = await create_user(container, "streamertwo", "streamer")
    own_session = await prepare(container, streamer)
    others_session = await prepared_and_started(container, other)
    await container.bus.execute(
        cmd.CastVote(session_id=others_session, actor_id=streamer.id, value="8")
    )
    await container.bus.execute(
        cmd.CastVote(session_id=others_session, actor_id=other.id, value="6")
    )
    app = page_app(container)
    async with browser(container, app, other.id) as client:
        await client.post("/account/follows", data=form(login="streamerone"))
    async with browser(container, app, streamer.id) as client:
        await client.post("/account/tokens", data=form(name="deck"))
        await client.post("/account/follows", data=form(login="streamertwo"))
        response = await client.post("/account/delete", data=form(confirm_login="StreamerOne"))

    async with container.db.session() as s:
        tokens = await s.scalar(select(func.count()).select_from(ApiToken))
        follows = await s.scalar(select(func.count()).select_from(Follow))
        votes = list(await s.scalars(select(Vote.viewer_id)))
        sessions = list(await s.scalars(select(ListeningSession.id)))
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert await _user(container, streamer.id) is None
    assert (tokens, follows) == (0, 0)
    assert votes == [other.twitch_user_id]
    assert sessions == [others_session] and own_session not in sessions
    assert (await _event_types(container, f"user-{streamer.id}"))[-1] == "AccountDeleted"
    assert "SessionDeleted" in await _event_types(container, f"session-{own_session}")


async def test_an_account_with_a_live_session_cannot_be_deleted(container: Any) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    session_id = await prepared_and_started(container, streamer)
    app = page_app(container)
    async with browser(container, app, streamer.id) as client:
        refused = await client.post("/account/delete", data=form(confirm_login="streamerone"))
        await stop(container, streamer, session_id)
        accepted = await client.post("/account/delete", data=form(confirm_login="streamerone"))

    assert (refused.status_code, accepted.status_code) == (409, 303)
    assert "Stop the live listening session" in refused.text


async def test_follow_a_streamer_see_them_live_and_unfollow(container: Any) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    quiet = await create_user(container, "streamertwo", "streamer")
    viewer = await create_user(container, "viewerone", "viewer")
    await prepared_and_started(container, streamer)
    async with browser(container, page_app(container), viewer.id) as client:
        before = await client.get("/account/follows")
        await client.post("/account/follows", data=form(login="streamerone"))
        await client.post("/account/follows", data=form(login="streamertwo"))
        page = await client.get("/account/follows")
        unfollowed = await client.post(f"/account/follows/{quiet.id}/unfollow", data=form())
        again = await client.post(f"/account/follows/{quiet.id}/unfollow", data=form())
    async with container.db.session() as s:
        live = await live_followed(s, viewer.id)

    assert 'value="streamerone"' in before.text  # offered to follow
    assert page.text.index("streamerone") < page.text.index("streamertwo")  # live first
    assert 'href="/live/streamerone"' in page.text and "Harbour Lights" in page.text
    assert [(f["login"], f["album_name"]) for f in live] == [("streamerone", "Harbour Lights")]
    assert (unfollowed.status_code, again.status_code) == (303, 404)


async def test_only_registered_streamers_can_be_followed_once(container: Any) -> None:
    await create_user(container, "streamerone", "streamer")
    viewer = await create_user(container, "viewerone", "viewer")
    await create_user(container, "viewertwo", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        not_streamer = await client.post("/account/follows", data=form(login="viewertwo"))
        unknown = await client.post("/account/follows", data=form(login="nobody"))
        yourself = await client.post("/account/follows", data=form(login="viewerone"))
        first = await client.post("/account/follows", data=form(login="streamerone"))
        twice = await client.post("/account/follows", data=form(login="streamerone"))

    assert (not_streamer.status_code, unknown.status_code) == (404, 404)
    assert yourself.status_code == 404  # a viewer is not a streamer
    assert (first.status_code, twice.status_code) == (303, 409)
    assert "You already follow streamerone." in twice.text


async def test_a_refusal_is_shown_in_the_readers_language(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        response = await client.post(
            "/account/delete",
            data=form(confirm_login="nope"),
            headers={"accept-language": "it-IT,it;q=0.9"},
        )

    assert response.status_code == 422
    assert "Digita esattamente il login viewerone" in response.text


async def test_a_deleted_viewer_leaves_other_reports_and_a_new_vote_counts_once(
    container: Any,
) -> None:
    from premiere_ecoute.accounts.commands import DeleteAccount
    from premiere_ecoute.sessions import queries
    from premiere_ecoute.sessions.commands import CastVote
    from premiere_ecoute.sessions.replay import replay_all
    from tests.support.sessions import prepared_and_started

    streamer = await create_user(container, "hoststreamer", "streamer")
    viewer = await create_user(container, "leavingviewer", "viewer")
    other = await create_user(container, "stayingviewer", "viewer")
    session_id = await prepared_and_started(container, streamer)
    for who, value in ((viewer, "8"), (other, "4")):
        await container.bus.execute(CastVote(session_id=session_id, actor_id=who.id, value=value))
    await container.bus.execute(
        DeleteAccount(user_id=viewer.id, actor_id=viewer.id, confirm_login="leavingviewer")
    )
    async with container.db.session() as s:
        report = await queries.report(s, session_id)
        differences = await replay_all(s, container.store, session_id)
    track = report["tracks"][0]
    assert (track["votes"], track["voters"], report["voters"]) == (1, 1, 1)
    assert track["distribution"]["8"] == 0 and track["viewer_score"] == 4.0
    assert differences == {session_id: []}  # the event log says the same
    # The same Twitch account signs up again and votes: it counts once, from scratch.
    back = await create_user(container, "leavingviewer", "viewer")
    await container.bus.execute(CastVote(session_id=session_id, actor_id=back.id, value="2"))
    async with container.db.session() as s:
        track = (await queries.report(s, session_id))["tracks"][0]
    assert (track["votes"], track["voters"], track["viewer_score"]) == (2, 2, 3.0)


async def test_after_deleting_the_account_the_home_page_says_it_is_done(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        deleted = await client.post("/account/delete", data=form(confirm_login="viewerone"))
        home = await client.get(deleted.headers["location"])
        again = await client.get("/")

    assert deleted.status_code == 303 and home.status_code == 200
    assert "Your account and its data are deleted." in home.text
    assert "Your account and its data are deleted." not in again.text  # shown once
