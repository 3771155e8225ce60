"""A viewer's own history over the hand-built sessions of the chart tests (viewer ``a`` is
``cast.viewer``: 10 ratings in S1..S5), and its erasure with the account."""

from __future__ import annotations

from typing import Any

import pytest

from premiere_ecoute.accounts.commands import DeleteAccount
from premiere_ecoute.sessions.charts import queries
from tests.support.charts import five_sessions, refreshed
from tests.support.sessions import Cast


def approx(value: float) -> Any:
    return pytest.approx(value, abs=1e-9)


def ids_of(user: Any) -> list[str]:
    return [f"user:{user.id}", user.twitch_user_id]


async def history(c: Any, user: Any, year: int | None = None) -> dict[str, Any]:
    async with c.db.session() as s:
        return await queries.viewer_history(s, ids_of(user), year=year)


async def test_every_rating_grouped_by_album_with_the_chats_beside_it(
    container: Any, cast: Cast
) -> None:
    ids = await five_sessions(container, cast)
    h = await history(container, cast.viewer)
    assert h["count"] == 10
    assert [(a["name"], len(a["ratings"])) for a in h["albums"]] == [
        ("Alpha", 4),
        ("Beta", 4),
        ("Gamma", 2),
    ]
    alpha = [
        (r["session_id"], r["track_number"], r["mine"], r["chat"])
        for r in h["albums"][0]["ratings"]
    ]
    assert alpha == [
        (ids["S1"], 1, "10", 5.0),
        (ids["S1"], 2, "8", 7.0),
        (ids["S1"], 3, "5", 5.0),
        (ids["S5"], 1, "10", 5.0),
    ]
    beta = [(r["channel"], r["mine"], r["chat"], r["streamer"]) for r in h["albums"][1]["ratings"]]
    assert beta == [
        ("streamertwo", "5", 4.0, "2"),
        ("streamertwo", "1", 1.0, None),
        ("streamerone", "2", 3.0, "3"),
        ("streamerone", "6", 6.0, "6"),
    ]
    assert [r["chat"] for r in h["albums"][2]["ratings"]] == ["smash", "smash"]
    # The streamer's own ratings are not a viewer's history.
    streamer = await history(container, cast.streamer)
    assert streamer["count"] == 0


async def test_taste_match_is_shown_from_five_tracks_in_common(container: Any, cast: Cast) -> None:
    await five_sessions(container, cast)
    h = await history(container, cast.viewer)
    # With streamerone: mine 1 .8 .5 .2 .6, theirs .9 .7 .5 .3 .6 (normalised).
    assert h["taste"] == [
        {"channel": "streamerone", "overlap": 5, "correlation": approx(0.9952332040455557)},
        {"channel": "streamertwo", "overlap": 1, "correlation": None},
    ]


async def test_year_in_review(container: Any, cast: Cast) -> None:
    ids = await five_sessions(container, cast)
    h = await history(container, cast.viewer)
    assert h["years"] == [2026] and h["year"] == 2026
    review = h["review"]
    assert (review["count"], review["channels"]) == (10, 2)
    # Means of my normalised ratings: Gamma 1, Alpha (1 + .8 + .5 + 1)/4, Beta (1 + 0 + .2 + .6)/4
    assert [(a["name"], a["mean"], a["ratings"]) for a in review["favourites"]] == [
        ("Gamma", approx(10.0), 2),
        ("Alpha", approx(8.25), 4),
        ("Beta", approx(4.5), 4),
    ]
    # Furthest above the chat: 10 where the chat gave 5 (S1 and S5 tie, the latest wins).
    generous = review["generous"]
    assert (generous["session_id"], generous["mine"], generous["gap"]) == (
        ids["S5"],
        "10",
        approx(5.0),
    )
    harshest = review["harshest"]
    assert (harshest["session_id"], harshest["mine"], harshest["chat"], harshest["gap"]) == (
        ids["S4"],
        "2",
        3.0,
        approx(-1.0),
    )
    assert (await history(container, cast.viewer, 2025))["review"]["count"] == 0


async def test_an_erased_viewer_has_no_history_and_leaves_the_charts(
    container: Any, cast: Cast
) -> None:
    c, viewer = container, cast.viewer
    await five_sessions(c, cast)
    await refreshed(c)
    await c.bus.execute(
        DeleteAccount(actor_id=viewer.id, user_id=viewer.id, confirm_login=viewer.login)
    )
    assert (await history(c, viewer))["count"] == 0
    # Every session they rated was rebuilt, so each is summed up again without them.
    assert await refreshed(c) == 5
    async with c.db.session() as s:
        page = await queries.album_page(s, "AlphaAAAAAAAAAAAAAAAAA")
    assert page is not None and page["ratings"] == 14 - 4
