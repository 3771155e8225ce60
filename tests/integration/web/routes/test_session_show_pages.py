"""The pages of a show: editing and deleting a prepared session, the control page's actions
for polls, playback and trolls, and a web vote that counts for the track the viewer hears."""

from __future__ import annotations

from typing import Any

from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import queries
from tests.support.pages import CSRF, browser, form, page_app
from tests.support.sessions import Cast, apply, ballot, load, prepare, prepared_and_started

HTMX = {"HX-Request": "true", "X-CSRF-Token": CSRF}


async def test_a_prepared_session_is_edited_then_deleted_from_the_pages(
    container: Any, cast: Cast
) -> None:
    session_id = await prepare(container, cast.streamer)
    app = page_app(container)
    async with browser(container, app, cast.streamer.id) as web:
        listing = await web.get("/sessions")
        control = await web.get(f"/sessions/{session_id}")
        edit = await web.get(f"/sessions/{session_id}/edit")
        saved = await web.post(
            f"/sessions/{session_id}/edit",
            data=form(
                scale="1-5",
                vote_mode="both",
                stream_delay_s="12",
                poll_duration_s="45",
                playback="manual",
            ),
        )
        bad = await web.post(
            f"/sessions/{session_id}/edit",
            data=form(scale="0-10", vote_mode="poll", stream_delay_s="abc"),
        )
        confirm = await web.get(f"/sessions/{session_id}/delete")
        deleted = await web.post(f"/sessions/{session_id}/delete", data=form())
        after = await web.get("/sessions")
    assert f"/sessions/{session_id}/edit" in listing.text
    assert f"/sessions/{session_id}/delete" in listing.text
    assert 'data-action="edit"' in control.text and 'data-action="delete"' in control.text
    assert edit.status_code == 200 and 'name="stream_delay_s"' in edit.text
    assert saved.status_code == 303 and saved.headers["location"] == f"/sessions/{session_id}"
    assert bad.status_code == 422 and "whole number" in bad.text
    assert confirm.status_code == 200 and 'data-action="confirm-delete"' in confirm.text
    assert deleted.status_code == 303 and deleted.headers["location"] == "/sessions"
    assert f'data-session-id="{session_id}"' not in after.text
    async with container.db.session() as s:
        listing_now = await queries.sessions_of(s, cast.streamer.id)
    assert listing_now["preparing"] == []


async def test_settings_are_saved_and_others_cannot_edit_or_delete(
    container: Any, cast: Cast
) -> None:
    session_id = await prepare(container, cast.streamer)
    app = page_app(container)
    async with browser(container, app, cast.streamer.id) as web:
        await web.post(
            f"/sessions/{session_id}/edit",
            data=form(
                scale="custom",
                custom_scale="bad, ok, great",
                vote_mode="chat",
                stream_delay_s="12",
                poll_duration_s="45",
                playback="manual",
            ),
        )
    row = await load(container, session_id)
    assert row.scale["options"] == ["bad", "ok", "great"]
    assert (row.stream_delay_s, row.poll_duration_s, row.playback) == (12, 45, "manual")
    async with browser(container, app, cast.rival.id) as other:
        edit = await other.post(f"/sessions/{session_id}/edit", data=form(scale="1-5"))
        gone = await other.post(f"/sessions/{session_id}/delete", data=form())
    assert edit.status_code == 403 and gone.status_code == 403
    assert (await load(container, session_id)).status == "preparing"


async def test_an_active_session_cannot_be_deleted_or_edited(container: Any, cast: Cast) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    app = page_app(container)
    async with browser(container, app, cast.streamer.id) as web:
        edit = await web.get(f"/sessions/{session_id}/edit")
        deleted = await web.post(f"/sessions/{session_id}/delete", data=form())
    assert edit.status_code == 303
    assert deleted.status_code == 409
    assert (await load(container, session_id)).status == "active"


async def test_the_control_actions_switch_playback_and_remove_a_voter(
    container: Any, cast: Cast
) -> None:
    c = container
    session_id = await prepared_and_started(c, cast.streamer, playback="spotify")
    now = c.clock.now()
    await apply(c, session_id, [ballot("troll-1", "0", now), ballot("fan-2", "9", now)])
    async with c.db.session() as s:
        feed = await queries.latest_votes(s, session_id)
    troll = next(v for v in feed if v["masked_id"] == "…ll-1")
    app = page_app(c)
    async with browser(c, app, cast.streamer.id) as web:
        page = await web.get(f"/sessions/{session_id}")
        manual = await web.post(
            f"/sessions/{session_id}/actions/playback", data={"playback": "manual"}, headers=HTMX
        )
        wrong = await web.post(
            f"/sessions/{session_id}/actions/playback", data={"playback": "vinyl"}, headers=HTMX
        )
        removed = await web.post(
            f"/sessions/{session_id}/actions/remove-voter",
            data={"vote_id": str(troll["id"])},
            headers=HTMX,
        )
        unknown = await web.post(
            f"/sessions/{session_id}/actions/remove-voter", data={"vote_id": "999"}, headers=HTMX
        )
        no_poll = await web.post(f"/sessions/{session_id}/actions/end-poll", headers=HTMX)
    assert 'data-action="switch-manual"' in page.text and "data-remove-vote" in page.text
    assert manual.status_code == 200 and (await load(c, session_id)).playback == "manual"
    assert wrong.status_code == 422
    assert removed.status_code == 200
    assert unknown.status_code == 422
    assert no_poll.status_code == 409 and "polls" in no_poll.text
    async with c.db.session() as s:
        report = await queries.report(s, session_id)
    assert (report["votes"], report["viewer_score"]) == (1, 9.0)


async def test_a_web_vote_counts_for_the_track_the_viewer_hears(container: Any, cast: Cast) -> None:
    c = container
    session_id = await prepared_and_started(c, cast.streamer, stream_delay_s=10)
    c.clock.advance(30)
    await c.bus.execute(
        cmd.ChangeTrack(session_id=session_id, actor_id=cast.streamer.id, direction="next")
    )
    c.clock.advance(3)
    row = await load(c, session_id)
    first, second = row.track_ids[0], row.track_ids[1]
    app = page_app(c)
    async with browser(c, app, cast.viewer.id) as web:
        shown = await web.post(
            f"/live/{cast.streamer.login}/vote",
            data={"value": "10", "track_id": str(first)},
            headers=HTMX,
        )
        ahead = await web.post(
            f"/live/{cast.streamer.login}/vote",
            data={"value": "2", "track_id": str(second)},
            headers=HTMX,
        )
    assert shown.status_code == 200 and "Morning Static" in shown.text
    assert ahead.status_code == 409
    async with c.db.session() as s:
        report = await queries.report(s, session_id)
    assert report["tracks"][0]["viewer_score"] == 10.0
    assert report["tracks"][1]["votes"] == 0
