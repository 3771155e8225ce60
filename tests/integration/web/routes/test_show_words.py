"""Numbers and words on the pages (issue 11 item 15): one rounding rule for scores on screen,
full precision in exports, plurals by ngettext, and a welcome that knows a first login."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.web.i18n import format_score
from tests.integration.web.routes.test_twitch_auth import _authorize
from tests.support.pages import browser
from tests.support.sessions import Cast, apply, ballot, prepared_and_started, stop


@pytest.fixture
def app(container: Any) -> Any:
    return web_app(container, run_background=False)


@pytest.mark.parametrize(
    ("value", "locale", "shown"),
    [
        (6.65, "en", "6.7"),
        (6.75, "en", "6.8"),
        (6.99, "fr", "7,0"),
        (7.25, "it", "7,3"),
        (0.15, "en", "0.2"),
        (8, "en", "8.0"),
        ("smash", "en", "smash"),
        (None, "en", "–"),
    ],
)
def test_one_rule_for_a_score_on_screen(value: Any, locale: str, shown: str) -> None:
    assert format_score(value, locale) == shown


async def test_pages_round_the_same_way_and_exports_keep_every_digit(
    container: Any, cast: Cast, app: Any, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    # 20 ratings averaging 6.65: 13 x 7 and 7 x 6 -> 133 / 20.
    votes = [ballot(f"v{i}", "7" if i < 13 else "6", fake_clock.now()) for i in range(20)]
    await apply(container, session_id, votes)
    await stop(container, cast.streamer, session_id)

    async with browser(container, app, cast.streamer.id) as web:
        report = (await web.get(f"/sessions/{session_id}/report")).text
        control = (await web.get(f"/sessions/{session_id}")).text
        csv = (await web.get(f"/sessions/{session_id}/report.csv")).text
        api = (await web.get(f"/sessions/{session_id}/report.json")).json()

    assert "6.7" in report and "6.65" not in report and "6.6<" not in report
    assert ">6.7<" in control.replace(" ", "")
    assert "6.65" in csv
    assert api["viewer_score"] == pytest.approx(6.65)


async def test_counts_are_plural_forms_in_each_language(
    container: Any, cast: Cast, app: Any, fake_clock: Any
) -> None:
    one = await prepared_and_started(container, cast.streamer)
    await apply(container, one, [ballot("v1", "7", fake_clock.now())])

    async with browser(container, app, cast.streamer.id) as web:
        english = (await web.get(f"/sessions/{one}")).text
        french = (await web.get(f"/sessions/{one}?locale=fr")).text
        italian = (await web.get(f"/sessions/{one}?locale=it")).text

    def count(page: str) -> str:
        found = re.search(r'data-count="session.voters"[^>]*>([^<]*)<', page)
        assert found, page[:200]
        return found.group(1)

    assert count(english) == "1 voter"
    assert count(french) == "1 votant"
    assert count(italian) == "1 votante"
    assert 'data-other="{n} voters"' in english and 'data-one="{n} voter"' in english


async def test_the_first_login_says_welcome_and_the_next_ones_welcome_back(
    fake_client: httpx.AsyncClient,
) -> None:
    await _authorize(fake_client, "viewer_alice")
    first = (await fake_client.get("/")).text
    again = (await fake_client.get("/")).text
    await _authorize(fake_client, "viewer_alice")
    returning = (await fake_client.get("/")).text

    assert "Welcome, viewer_alice" in first and "Welcome back" not in first
    assert "Welcome back, viewer_alice" in again
    assert "Welcome back, viewer_alice" in returning
