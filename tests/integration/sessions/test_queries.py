"""Read models: my sessions, retrospective, running average and session detail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from premiere_ecoute.core.errors import NotFound, ValidationFailed
from premiere_ecoute.sessions import queries
from tests.support.sessions import (
    Cast,
    apply,
    at,
    ballot,
    move,
    prepare,
    prepared_and_started,
    start,
    stop,
)


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


async def _session_stopped_at(
    c: Any, cast: Cast, clock: Any, when: dt.datetime, vote: str | None = None
) -> int:
    clock.set(when - dt.timedelta(minutes=30))
    session_id = await prepared_and_started(c, cast.streamer)
    if vote is not None:
        await apply(c, session_id, [ballot("v", vote, clock.now())])
    clock.set(when)
    await stop(c, cast.streamer, session_id)
    return session_id


async def test_my_sessions_are_active_then_preparing_then_completed_newest_first(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    stops = [_utc(2026, 3, d, 21) for d in (5, 1, 9, 3, 7)]
    completed = {
        when: await _session_stopped_at(container, cast, fake_clock, when) for when in stops
    }
    newest_first = [completed[w] for w in sorted(stops, reverse=True)]
    older_preparing = await prepare(container, cast.streamer)
    active = await prepared_and_started(container, cast.streamer)
    newer_preparing = await prepare(container, cast.streamer)
    await prepare(container, cast.rival)
    async with container.db.session() as s:
        page1 = await queries.sessions_of(s, cast.streamer.id, per_page=2)
        page3 = await queries.sessions_of(s, cast.streamer.id, page=3, per_page=2)
        beyond = await queries.sessions_of(s, cast.streamer.id, page=4, per_page=2)
    assert [x["id"] for x in page1["active"]] == [active]
    assert [x["id"] for x in page1["preparing"]] == [newer_preparing, older_preparing]
    assert [x["id"] for x in page1["completed"]] == newest_first[:2]
    assert [x["id"] for x in page3["completed"]] == newest_first[4:]
    assert (page1["completed_total"], page1["pages"], page3["page"]) == (5, 3, 3)
    assert beyond["completed"] == []
    with pytest.raises(ValidationFailed):
        async with container.db.session() as s:
            await queries.sessions_of(s, cast.streamer.id, page=0)


async def test_retrospective_by_month_and_year_with_neighbours_across_years(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    december = await _session_stopped_at(
        container, cast, fake_clock, _utc(2025, 12, 31, 23, 59), vote="4"
    )
    new_year = await _session_stopped_at(container, cast, fake_clock, _utc(2026, 1, 1), vote="8")
    later = await _session_stopped_at(container, cast, fake_clock, _utc(2026, 1, 20), vote="6")
    await _session_stopped_at(container, cast, fake_clock, _utc(2026, 2, 1))
    async with container.db.session() as s:
        january = await queries.retrospective(s, cast.streamer.id, 2026, 1)
        dec = await queries.retrospective(s, cast.streamer.id, 2025, 12)
        year = await queries.retrospective(s, cast.streamer.id, 2025, None)
        rival = await queries.retrospective(s, cast.rival.id, 2026, 1)
    assert [x["session_id"] for x in january["sessions"]] == [later, new_year]
    assert [x["viewer_score"] for x in january["sessions"]] == [6.0, 8.0]
    assert january["sessions"][0]["source"]["name"] == "Harbour Lights"
    assert (january["previous"], january["next"]) == ((2025, 12), (2026, 2))
    assert [x["session_id"] for x in dec["sessions"]] == [december]
    assert (dec["previous"], dec["next"]) == ((2025, 11), (2026, 1))
    assert [x["session_id"] for x in year["sessions"]] == [december]
    assert (year["previous"], year["next"]) == ((2024, None), (2026, None))
    assert rival["sessions"] == []
    for bad in ((2026, 13), (2026, 0), (1, None)):
        with pytest.raises(ValidationFailed):
            async with container.db.session() as s:
                await queries.retrospective(s, cast.streamer.id, *bad)


async def test_running_average_per_vote_and_per_minute(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    await apply(
        container,
        session_id,
        [
            ballot("a", "10", at(container, 10)),
            ballot("b", "4", at(container, 50)),
            ballot("c", "7", at(container, 70)),
            ballot(cast.streamer.twitch_user_id or "", "0", at(container, 80), streamer=True),
        ],
    )
    fake_clock.advance(100)
    await move(container, cast.streamer, session_id, "next")
    await apply(container, session_id, [ballot("a", "3", at(container, 130))])
    async with container.db.session() as s:
        per_vote = await queries.running_average(s, session_id)
        per_minute = await queries.running_average(s, session_id, per="minute")
    assert [(p["average"], p["votes"]) for p in per_vote] == [
        (10.0, 1),
        (7.0, 2),
        (7.0, 3),
        (6.0, 4),
    ]
    assert per_vote[0]["at"] == at(container, 10).isoformat()
    assert per_minute == [
        {"at": "2026-11-23T20:00:00+00:00", "average": 7.0, "votes": 2},
        {"at": "2026-11-23T20:01:00+00:00", "average": 7.0, "votes": 3},
        {"at": "2026-11-23T20:02:00+00:00", "average": 6.0, "votes": 4},
    ]


async def test_running_average_is_empty_for_a_categorical_scale(container: Any, cast: Cast) -> None:
    session_id = await prepared_and_started(container, cast.streamer, scale="smash-pass")
    await apply(container, session_id, [ballot("a", "smash", at(container, 1))])
    async with container.db.session() as s:
        assert await queries.running_average(s, session_id) == []


async def test_session_detail_shows_the_current_track_while_active(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    session_id = await prepare(container, cast.streamer, stream_delay_s=3)
    async with container.db.session() as s:
        preparing = await queries.session_detail(s, session_id)
    assert (preparing["status"], preparing["current_track"]) == ("preparing", None)
    assert preparing["votes_open"] is False and preparing["track_count"] == 4
    assert preparing["source"]["name"] == "Harbour Lights"
    await start(container, cast.streamer, session_id)
    fake_clock.advance(5)
    row = await move(container, cast.streamer, session_id, "next")
    async with container.db.session() as s:
        active = await queries.session_detail(s, session_id)
    assert active["current_track"] == {
        "track_id": row.track_ids[1],
        "track_number": 2,
        "name": "Glass Harbour",
        "artists": [],
        "spotify_id": "4aawyAB9vmqNtrk0000001",
        "position": 2,
    }
    assert (active["votes_open"], active["stream_delay_s"], active["scale"]["kind"]) == (
        True,
        3,
        "numeric",
    )
    await stop(container, cast.streamer, session_id)
    async with container.db.session() as s:
        stopped = await queries.session_detail(s, session_id)
        with pytest.raises(NotFound):
            await queries.session_detail(s, session_id + 100)
    assert (stopped["current_track"], stopped["votes_open"]) == (None, False)
    assert stopped["stopped_at"] == fake_clock.now().isoformat()
