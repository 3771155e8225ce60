"""Charts over hand-built finished sessions: every figure checked against values worked out
by hand (normalised ratings, priors per scale family, Bayesian averages, splits).

The five sessions (viewer ids a–f; normalised values in brackets):
- S1 streamerone, Alpha, 0-10: t1 a=10 b=10 c=0 d=0 e=10 f=0, t2 a=8 b=6, t3 a=5 b=5
  [1 1 0 0 1 0 .8 .6 .5 .5]; streamer 9, 7, 5
- S2 streamertwo, Beta, 1-5: t1 a=5 b=4 c=3, t2 a=1 [1 .75 .5 0]; streamer t1 2
- S3 streamertwo, Gamma, smash-pass: t1 a=b=smash c=pass, t2 a=smash [1 1 0 1]
- then ten days later:
- S4 streamerone, Beta, 0-10: t1 a=2 b=4, t2 a=6 [.2 .4 .6]; streamer 3, 6
- S5 streamertwo, Alpha, 0-10: t1 a=10 b=0 c=10 d=0 [1 0 1 0]

Priors m: 0-10 = (5.4 + 1.2 + 2) / (10 + 3 + 4) = 8.6/17; 1-5 = 2.25/4; smash-pass = 3/4."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select, text

from premiere_ecoute.core.errors import ValidationFailed
from premiere_ecoute.jobs.tasks import register_tasks
from premiere_ecoute.sessions.charts import queries
from premiere_ecoute.sessions.charts.models import ChartSession, ChartSnapshot, ChartTrack
from premiere_ecoute.sessions.models import Vote
from premiere_ecoute.sessions.voting import rebuild_report
from tests.support.charts import ALPHA, GAMMA, five_sessions, played, refreshed
from tests.support.sessions import Cast

M010 = 8.6 / 17


def approx(value: float) -> Any:
    return pytest.approx(value, abs=1e-9)


async def chart(c: Any, period: str = "all", family: str = "all") -> dict[str, Any]:
    async with c.db.session() as s:
        return await queries.charts(
            s, c.kernel.clock.now(), queries.ChartFilter.parse(period, family)
        )


async def test_albums_of_all_time_are_ranked_by_bayesian_average(
    container: Any, cast: Cast
) -> None:
    ids = await five_sessions(container, cast)
    assert await refreshed(container) == 5
    data = await chart(container)
    assert data["priors"] == {
        "0-10": approx(M010 * 10),
        "1-5": approx(5.625),
        "smash-pass": approx(7.5),
    }
    rows = {r["name"]: r for r in data["albums"]}
    assert [r["name"] for r in data["albums"]] == ["Gamma", "Beta", "Alpha"]
    # Alpha: 14 ratings summing 7.4, all 0-10: (10·m + 7.4) / 24
    assert rows["Alpha"]["bayesian"] == approx((10 * M010 + 7.4) / 24 * 10)
    assert rows["Alpha"]["bayesian"] == approx(5.191176470588235)
    assert rows["Alpha"]["mean"] == approx(7.4 / 14 * 10)
    assert rows["Alpha"]["ratings"] == 14 and rows["Alpha"]["sessions"] == 2
    assert rows["Alpha"]["session_ids"] == [ids["S5"], ids["S1"]]
    # Beta: 3 ratings of 0-10 and 4 of 1-5: prior (3·m + 4·0.5625) / 7, sum 1.2 + 2.25
    prior_beta = (3 * M010 + 4 * 0.5625) / 7
    assert rows["Beta"]["prior"] == approx(prior_beta * 10)
    assert rows["Beta"]["bayesian"] == approx((10 * prior_beta + 3.45) / 17 * 10)
    assert rows["Beta"]["bayesian"] == approx(5.195501730103807)
    # Gamma: share of smash 3/4, the smash-pass prior itself
    assert rows["Gamma"]["bayesian"] == approx(7.5)
    assert rows["Gamma"]["mean"] == approx(7.5)


async def test_period_and_scale_filters(container: Any, cast: Cast) -> None:
    await five_sessions(container, cast)
    await refreshed(container)
    week = await chart(container, "week")
    # Only S4 and S5 are in the last 7 days; priors stay those of all time.
    assert [(r["name"], r["ratings"]) for r in week["albums"]] == [("Alpha", 4), ("Beta", 3)]
    assert week["albums"][0]["bayesian"] == approx((10 * M010 + 2) / 14 * 10)
    assert week["albums"][1]["bayesian"] == approx((10 * M010 + 1.2) / 13 * 10)
    smash = await chart(container, "all", "smash-pass")
    assert [r["name"] for r in smash["albums"]] == ["Gamma"]
    decimal = await chart(container, "month", "0-10")
    assert [(r["name"], r["ratings"]) for r in decimal["albums"]] == [("Alpha", 14), ("Beta", 3)]


async def test_most_divisive_albums_and_tracks_and_most_rated_artists(
    container: Any, cast: Cast
) -> None:
    ids = await five_sessions(container, cast)
    await refreshed(container)
    data = await chart(container)
    # Only Alpha has the 10 ratings a split needs: mean 7.4/14, mean of squares 6.5/14.
    mean, squares = 7.4 / 14, 6.5 / 14
    assert [r["name"] for r in data["divisive_albums"]] == ["Alpha"]
    assert data["divisive_albums"][0]["divisiveness"] == approx(2 * (squares - mean * mean) ** 0.5)
    # Alpha's first track: 10 ratings over two sessions, five at each end.
    assert [(t["name"], t["ratings"]) for t in data["divisive_tracks"]] == [("Morning Static", 10)]
    assert data["divisive_tracks"][0]["divisiveness"] == approx(1.0)
    assert data["divisive_tracks"][0]["session_ids"] == [ids["S5"], ids["S1"]]
    # Artist One: Alpha (14) + Gamma (4); Artist Two: Beta (4 + 3)
    assert [(a["artist"], a["ratings"], a["albums"], a["sessions"]) for a in data["artists"]] == [
        ("Artist One", 18, 2, 3),
        ("Artist Two", 7, 1, 2),
    ]


async def test_the_album_page_lists_every_session_and_compares_tracks(
    container: Any, cast: Cast
) -> None:
    ids = await five_sessions(container, cast)
    await refreshed(container)
    async with container.db.session() as s:
        page = await queries.album_page(s, ALPHA.spotify_id)
        missing = await queries.album_page(s, "NoSuchAlbum")
    assert missing is None
    assert page is not None
    assert [(r["session_id"], r["channel"], r["ratings"]) for r in page["sessions"]] == [
        (ids["S5"], "streamertwo", 4),
        (ids["S1"], "streamerone", 10),
    ]
    s1 = page["sessions"][1]
    # The report's own score: mean of track means (5 + 7 + 5) / 3, and out of 10 overall.
    assert s1["viewer_score"] == approx(17 / 3)
    assert s1["mean"] == approx(5.4)
    assert page["bayesian"] == approx(5.191176470588235)
    tracks = {t["track_number"]: t for t in page["tracks"]}
    assert tracks[1]["ratings"] == 10 and tracks[1]["mean"] == approx(5.0)
    assert tracks[1]["divisiveness"] == approx(1.0)
    assert tracks[3]["divisiveness"] is None  # two ratings say nothing about a split
    assert tracks[1]["streamer"] == approx(9.0)
    assert tracks[2]["bayesian"] == approx((10 * M010 + 1.4) / 12 * 10)
    assert tracks[3]["bayesian"] == approx((10 * M010 + 1.0) / 12 * 10)
    # Track 1's many ratings at both ends weigh more than track 3's two fives.
    assert tracks[1]["bayesian"] == approx((10 * M010 + 5.0) / 20 * 10)
    assert (tracks[2]["rank"], tracks[3]["rank"], tracks[1]["rank"]) == (1, 2, 3)


async def test_the_refresh_only_sums_up_new_or_changed_sessions(container: Any, cast: Cast) -> None:
    c = container
    ids = await five_sessions(c, cast)
    assert await refreshed(c) == 5
    assert await refreshed(c) == 0
    # A viewer's rating erased and the report rebuilt (as an account deletion does) marks the
    # session to be summed up again.
    async with c.db.session() as s, s.begin():
        await s.execute(delete(Vote).where(Vote.session_id == ids["S1"], Vote.viewer_id == "f"))
        await rebuild_report(s, ids["S1"])
    assert await refreshed(c) == 1
    async with c.db.session() as s:
        row = await s.get(ChartSession, ids["S1"])
        assert row is not None and (row.ratings, row.total) == (9, approx(5.4))
        assert len(list(await s.scalars(select(ChartTrack)))) == 10


async def test_a_session_is_summed_up_only_once_its_late_votes_can_have_arrived(
    container: Any, cast: Cast
) -> None:
    c = container
    await played(c, cast.streamer, ALPHA, [{"a": "7"}])
    async with c.db.session() as s, s.begin():
        await s.execute(text("UPDATE listening_sessions SET stream_delay_s = 30"))
    assert await refreshed(c) == 0
    c.kernel.clock.advance(30)
    assert await refreshed(c) == 1


async def test_bad_filters_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        queries.ChartFilter.parse("decade", None)
    with pytest.raises(ValidationFailed):
        queries.ChartFilter.parse("week", "custom")
    assert queries.ChartFilter.parse(None, None) == queries.ChartFilter("all", "all")


async def test_the_refresh_is_a_periodic_job_of_the_worker(container: Any) -> None:
    register_tasks(container.job_deps(), "test")
    assert "refresh_charts" in container.jobs.tasks
    periodic = container.jobs.periodic_registry.periodic_tasks.values()
    job = next(p for p in periodic if p.periodic_id == "refresh-charts")
    assert job.cron == "* * * * *"


async def test_a_chart_page_reads_the_snapshot_the_job_computed(container: Any, cast: Cast) -> None:
    c = container
    await five_sessions(c, cast)
    await refreshed(c)
    now = c.kernel.clock.now()
    async with c.db.session() as s:
        assert len(list(await s.scalars(select(ChartSnapshot)))) == 20  # 4 periods x 5 scales
        page = await queries.chart_page(s, now, queries.ChartFilter())
    assert [a["name"] for a in page["albums"]] == ["Gamma", "Beta", "Alpha"]
    assert page["computed_at"] == now
    # A session summed up after the snapshot shows at the next refresh, not before.
    await played(c, cast.streamer, GAMMA, [{"x": "smash", "y": "smash"}], scale="smash-pass")
    async with c.db.session() as s:
        before = await queries.chart_page(s, now, queries.ChartFilter())
    assert before["albums"][0]["ratings"] == 4
    assert await refreshed(c) == 1
    async with c.db.session() as s:
        after = await queries.chart_page(s, c.kernel.clock.now(), queries.ChartFilter())
    assert (after["albums"][0]["name"], after["albums"][0]["ratings"]) == ("Gamma", 6)
    # With nothing new, snapshots are recomputed only once they are an hour old.
    async with c.db.session() as s:
        assert not await queries.snapshots_due(s, c.kernel.clock.now(), dt.timedelta(hours=1))
    c.kernel.clock.advance(3601)
    async with c.db.session() as s:
        assert await queries.snapshots_due(s, c.kernel.clock.now(), dt.timedelta(hours=1))
