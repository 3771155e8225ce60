"""Honest scores on hand-built sessions, through the database, the job that refreshes the
instance prior, the report page, its exports, the JSON API and ``events replay``."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import httpx
import pytest

from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.demo import create_token
from premiere_ecoute.jobs.scores import refresh_priors
from premiere_ecoute.sessions.replay import figures_summary, replay_all, replay_session
from premiere_ecoute.sessions.repository import get_session
from tests.support.sessions import (
    Cast,
    apply,
    at,
    ballot,
    live_report,
    move,
    prepared_and_started,
    stop,
)

TEN = 10.0  # the prior weight C


async def _few_tens_and_many_nines(c: Any, cast: Cast, clock: Any) -> int:
    """Track 1: three 10s, the streamer 4. Track 2: 300 votes averaging 9.2 (60 tens, 240
    nines), the streamer 9. Track 3: 0, 0, 10, 10 (split down the middle). Track 4: unrated."""
    sid = await prepared_and_started(c, cast.streamer)
    await apply(c, sid, [ballot(f"a{i}", "10", at(c, 1)) for i in range(3)])
    await apply(c, sid, [ballot("s", "4", at(c, 2), streamer=True)])
    clock.advance(30)
    await move(c, cast.streamer, sid, "next")
    await apply(c, sid, [ballot(f"b{i}", "10" if i < 60 else "9", at(c, 31)) for i in range(300)])
    await apply(c, sid, [ballot("s", "9", at(c, 32), streamer=True)])
    clock.advance(30)
    await move(c, cast.streamer, sid, "next")
    await apply(
        c, sid, [ballot(f"c{i}", v, at(c, 61)) for i, v in enumerate(["0", "0", "10", "10"])]
    )
    clock.advance(30)
    await stop(c, cast.streamer, sid)
    return sid


async def _rival_fives(c: Any, cast: Cast, clock: Any) -> int:
    """Another streamer's session on the same scale: 400 ratings of 5."""
    sid = await prepared_and_started(c, cast.rival)
    start = clock.now()
    await apply(c, sid, [ballot(f"r{i}", "5", start) for i in range(400)])
    clock.advance(30)
    await stop(c, cast.rival, sid)
    return sid


async def test_the_honest_figures_of_a_hand_built_instance(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    sid = await _few_tens_and_many_nines(container, cast, fake_clock)
    await _rival_fives(container, cast, fake_clock)

    before = await live_report(container, sid)
    # no refresh yet: the neutral prior, the middle of the scale
    assert before["figures"]["prior"]["mean_on_scale"] == 5.0
    assert before["figures"]["prior"]["ratings"] == 0

    totals = await refresh_priors(container.job_deps())
    # (30 + 2760 + 20) / 10 + 400 · 0.5 = 481 over 307 + 400 ratings
    assert totals == {"0-10": (481.0, 707)}
    report = await live_report(container, sid)
    fig = report["figures"]
    m = 4810 / 707  # 6.80 on 0-10
    assert fig["prior"] == {
        "family": "0-10",
        "mean": 481 / 707,
        "weight": TEN,
        "ratings": 707,
        "mean_on_scale": pytest.approx(m, abs=1e-12),
        "formula": "(C·m + Σx) / (C + n)",
    }
    t1, t2, t3, t4 = (t["figures"] for t in report["tracks"])
    assert t1["bayesian"] == pytest.approx((TEN * m + 30) / 13, abs=1e-12)  # 7.54
    assert t2["bayesian"] == pytest.approx((TEN * m + 2760) / 310, abs=1e-12)  # 9.12
    assert t3["bayesian"] == pytest.approx((TEN * m + 20) / 14, abs=1e-12)  # 6.29
    assert t4["bayesian"] == pytest.approx(m, abs=1e-12) and t4["rank"] is None
    # the plain mean would put track 1 (10.0) first; the Bayesian average does not
    assert [t["viewer_score"] for t in report["tracks"][:3]] == [10.0, pytest.approx(9.2), 5.0]
    assert fig["ranking"] == [
        t["track_id"] for t in (report["tracks"][1], report["tracks"][0], report["tracks"][2])
    ]
    assert (t2["rank"], t1["rank"], t3["rank"]) == (1, 2, 3)

    assert (t1["mean"], t1["median"], t1["std"], t1["divisiveness"]) == (10.0, 10.0, 0.0, 0.0)
    assert t2["median"] == 9.0 and t2["std"] == pytest.approx(0.4, abs=1e-12)
    assert (t3["mean"], t3["median"], t3["std"], t3["divisiveness"]) == (5.0, 5.0, 5.0, 1.0)
    assert t2["voters"] == 300 and t2["ratings"] == 300
    assert fig["most_divisive"]["name"] == "Paper Lanterns"
    assert fig["most_divisive"]["divisiveness"] == 1.0

    album = fig["album"]
    assert (album["ratings"], album["voters"]) == (307, 307)
    assert album["mean"] == 2810 / 307
    assert album["median"] == 9.0
    assert album["bayesian"] == pytest.approx((TEN * m + 2810) / 317, abs=1e-12)
    assert album["distribution"] == {**{str(n): 0 for n in range(11)}, "0": 2, "9": 240, "10": 65}

    svc = fig["streamer_vs_chat"]
    # track 1: streamer 4, chat 10 (gap 6); track 2: streamer 9, chat 9.2 (gap 0.2)
    assert svc["tracks_compared"] == 2
    assert svc["mean_absolute_difference"] == pytest.approx(3.1, abs=1e-12)
    assert svc["agreement"] == pytest.approx(0.69, abs=1e-12)
    assert svc["correlation"] is None
    assert [d["name"] for d in svc["disagreements"]] == ["Morning Static", "Glass Harbour"]
    assert svc["disagreements"][0]["difference"] == 6.0


async def test_replay_reproduces_the_honest_figures_exactly(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    sid = await _few_tens_and_many_nines(container, cast, fake_clock)
    rival = await _rival_fives(container, cast, fake_clock)
    await refresh_priors(container.job_deps())
    live = await live_report(container, sid)
    async with container.db.session() as s:
        differences = await replay_all(s, container.store)
        rebuilt = await replay_session(s, container.store, await get_session(s, sid))
    assert differences == {sid: [], rival: []}
    assert rebuilt["figures"] == live["figures"]  # equal, not merely close
    assert [t["figures"] for t in rebuilt["tracks"]] == [t["figures"] for t in live["tracks"]]
    # what ``events replay --figures`` prints
    assert figures_summary(rebuilt) == [
        "ranked by Bayesian average (C = 10, m = 6.80): "
        "Glass Harbour 9.12 · Morning Static 7.54 · Paper Lanterns 6.29",
        "most divisive: Paper Lanterns (1.00) · streamer vs chat agreement: 0.69 over 2 track(s)",
    ]


async def test_smash_pass_session_figures(container: Any, cast: Cast, fake_clock: Any) -> None:
    sid = await prepared_and_started(container, cast.streamer, scale="smash-pass")
    votes = ["smash"] * 7 + ["pass"] * 3
    await apply(container, sid, [ballot(f"v{i}", v, at(container, 1)) for i, v in enumerate(votes)])
    await apply(container, sid, [ballot("s", "pass", at(container, 2), streamer=True)])
    fake_clock.advance(30)
    await move(container, cast.streamer, sid, "next")
    await apply(container, sid, [ballot("v0", "smash", at(container, 31))])
    await refresh_priors(container.job_deps())  # the instance: 8 smashes in 11 ratings
    fig = (await live_report(container, sid))["figures"]
    p = 8 / 11
    assert fig["prior"]["family"] == "smash-pass" and fig["prior"]["mean"] == p
    first = fig["album"]
    assert (first["first_share"], first["modal"], first["modal_share"]) == (p, "smash", p)
    assert fig["ranking"][0] == (await live_report(container, sid))["tracks"][1]["track_id"]
    assert fig["most_divisive"]["divisiveness"] == pytest.approx(0.6, abs=1e-12)
    assert fig["streamer_vs_chat"]["agreement"] == pytest.approx(0.3, abs=1e-12)
    assert fig["streamer_vs_chat"]["matches"] == 0


async def test_page_exports_and_api_carry_the_figures(
    container: Any, cast: Cast, fake_clock: Any
) -> None:
    sid = await _few_tens_and_many_nines(container, cast, fake_clock)
    await _rival_fives(container, cast, fake_clock)
    await refresh_priors(container.job_deps())
    expected = await live_report(container, sid)
    token = await create_token(container, cast.streamer.id, "tests")
    app = web_app(container, run_background=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        api = await http.get(
            f"/api/v1/sessions/{sid}/report", headers={"Authorization": f"Bearer {token}"}
        )
        as_json = await http.get(f"/sessions/{sid}/report.json")
        as_csv = await http.get(f"/sessions/{sid}/report.csv")
        page = await http.get(f"/sessions/{sid}/report", headers={"accept": "text/html"})
        page_fr = await http.get(f"/sessions/{sid}/report?locale=fr")
        openapi = (await http.get("/api/v1/openapi.json")).json()
    assert api.status_code == 200 and api.json() == expected
    assert as_json.json() == expected
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["rank"] for r in rows] == ["2", "1", "3", ""]
    assert float(rows[1]["bayesian"]) == expected["tracks"][1]["figures"]["bayesian"]
    assert (rows[2]["median"], rows[2]["std"], rows[2]["divisiveness"]) == ("5.0", "5.0", "1.0")
    assert "Ranked by" in page.text and "Bayesian average" in page.text
    assert "C = 10 imaginary ratings at m = 6.8" in page.text
    podium = page.text[page.text.index('id="podium"') : page.text.index('id="honest-scores"')]
    assert podium.index("Glass Harbour") < podium.index("Morning Static")
    assert "Paper Lanterns (100 %)" in page.text  # the most divisive track, named
    assert "m = 6,8" in page_fr.text
    figures = openapi["components"]["schemas"]["ReportFigures"]
    assert {"prior", "album", "ranking", "most_divisive", "streamer_vs_chat"} <= set(
        figures["properties"]
    )
    assert math.isfinite(expected["figures"]["album"]["bayesian"])
