"""The pages over HTTP: `/charts` and its filters, `/albums/{id}`, `/me/ratings` with its
export and public-profile switch, `/u/{login}`; refusals are 4xx with a message."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tests.support.charts import ALPHA, five_sessions, refreshed
from tests.support.pages import browser, form, page_app
from tests.support.sessions import Cast


async def test_charts_page_and_its_filters(container: Any, cast: Cast) -> None:
    await five_sessions(container, cast)
    await refreshed(container)
    async with browser(container, page_app(container)) as client:
        everything = await client.get("/charts")
        week = await client.get("/charts?period=week&scale=0-10")
        french = await client.get("/charts?locale=fr")
        bad = await client.get("/charts?period=decade")
        bad_scale = await client.get("/charts?scale=stars")
    assert everything.status_code == 200
    top = everything.text.split('data-testid="top-albums"')[1].split("</table>")[0]
    assert top.index("Gamma") < top.index("Beta") < top.index("Alpha")
    assert 'data-bayesian="7.5"' in top
    assert "/sessions/" in top and "/report" in top
    assert "Artist One" in everything.text
    week_top = week.text.split('data-testid="top-albums"')[1].split("</table>")[0]
    assert "Alpha" in week_top and "Gamma" not in week_top
    assert french.status_code == 200 and "Classements" in french.text
    assert bad.status_code == 422 and "decade" in bad.text
    assert bad_scale.status_code == 422


async def test_album_page(container: Any, cast: Cast) -> None:
    ids = await five_sessions(container, cast)
    await refreshed(container)
    async with browser(container, page_app(container)) as client:
        page = await client.get(f"/albums/{ALPHA.spotify_id}")
        unknown = await client.get("/albums/NoSuchAlbum1")
        bad = await client.get("/albums/not-an-id!")
    assert page.status_code == 200
    assert f'data-session="{ids["S1"]}"' in page.text and f'data-session="{ids["S5"]}"' in page.text
    assert "streamerone" in page.text and "streamertwo" in page.text
    assert "5.2" in page.text  # the Bayesian average, out of 10, one decimal
    assert unknown.status_code == 404
    assert bad.status_code == 400


async def test_my_ratings_export_and_public_profile(container: Any, cast: Cast) -> None:
    await five_sessions(container, cast)
    viewer = cast.viewer
    app = page_app(container)
    async with browser(container, app) as anonymous:
        assert (await anonymous.get("/me/ratings")).status_code == 303
        assert (await anonymous.get(f"/u/{viewer.login}")).status_code == 404  # off by default
    async with browser(container, app, viewer.id) as client:
        page = await client.get("/me/ratings")
        assert page.status_code == 200
        assert "Alpha" in page.text and "streamerone" in page.text
        taste = page.text.split('data-testid="taste"')[1].split("</section>")[0]
        one = taste.split('data-channel="streamerone"')[1].split("</tr>")[0]
        assert "1.0" in one  # 0.9952 to one decimal
        assert "not enough yet" in taste.split('data-channel="streamertwo"')[1]
        exported = await client.get("/me/ratings.csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert len(rows) == 10 and rows[0]["my_rating"] == "10" and rows[0]["chat_score"] == "5.0"
        as_json = json.loads((await client.get("/me/ratings.json")).text)
        assert as_json["login"] == viewer.login and len(as_json["ratings"]) == 10
        assert (await client.get("/me/ratings.xml")).status_code == 404
        refused = await client.post("/me/ratings/visibility", data={"public": "1"})
        assert refused.status_code == 403
        shown = await client.post("/me/ratings/visibility", data=form(public="1"))
        assert shown.status_code == 303
    async with browser(container, app) as anonymous:
        public = await anonymous.get(f"/u/{viewer.login}")
        assert public.status_code == 200 and "Alpha" in public.text
        assert "/me/ratings.csv" not in public.text
    async with browser(container, app, viewer.id) as client:
        await client.post("/me/ratings/visibility", data=form(public="0"))
    async with browser(container, app) as anonymous:
        assert (await anonymous.get(f"/u/{viewer.login}")).status_code == 404
