from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from structlog.testing import capture_logs

from premiere_ecoute.web.i18n import Templating

from .conftest import TEMPLATES_DIR

STREAMER = SimpleNamespace(login="alice", role="streamer")
ADMIN = SimpleNamespace(login="root", role="admin")


def dashboard_context(user: object) -> dict[str, object]:
    return {
        "user": user,
        "request_path": "/",
        "title": "Dashboard",
        "active_session": None,
        "live_streamers": [
            SimpleNamespace(login="bob", album_name="Kid A", artist="Radiohead", cover_url=None)
        ],
        "recent_sessions": [
            SimpleNamespace(
                id=12,
                album_name="Amnesiac",
                artist="Radiohead",
                status="stopped",
                cover_url=None,
                viewer_score=7.25,
                started_at=datetime(2026, 3, 1, 20, 0),
            )
        ],
    }


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", ["Log in with Twitch", "How it works", "Retrospective", "Privacy"]),
        ("fr", ["Se connecter avec Twitch", "Comment ça marche", "Rétrospective"]),
        ("it", ["Accedi con Twitch", "Come funziona", "Retrospettiva"]),
    ],
)
def test_landing_page_is_rendered_in_the_requested_language(
    templating: Templating, locale: str, expected: list[str]
) -> None:
    html = templating.render("home.html", {"user": None, "request_path": "/"}, locale)

    assert f'<html lang="{locale}">' in html
    for text in expected:
        assert text in html


def test_landing_page_in_french_contains_no_english_navigation(templating: Templating) -> None:
    html = templating.render("home.html", {"user": None, "request_path": "/"}, "fr")

    assert "Log in with Twitch" not in html
    assert "How it works" not in html


@pytest.mark.parametrize(
    ("locale", "welcome", "score"),
    [
        ("en", "Welcome back, alice", "7.3"),
        ("fr", "Bon retour, alice", "7,3"),
        ("it", "Bentornato, alice", "7,3"),
    ],
)
def test_dashboard_greets_user_and_formats_scores_per_locale(
    templating: Templating, locale: str, welcome: str, score: str
) -> None:
    html = templating.render("home.html", dashboard_context(STREAMER), locale)

    assert welcome in html
    assert f">{score}</span>" in html
    assert 'href="/live/bob"' in html
    assert 'href="/sessions/12/report"' in html


def test_admin_link_is_shown_only_to_admins(templating: Templating) -> None:
    as_streamer = templating.render("home.html", dashboard_context(STREAMER), "en")
    as_admin = templating.render("home.html", dashboard_context(ADMIN), "en")

    assert 'href="/admin"' not in as_streamer
    assert 'href="/admin"' in as_admin


def test_language_switcher_marks_current_locale(templating: Templating) -> None:
    html = templating.render("home.html", {"user": None}, "it")

    links = dict(re.findall(r'<a href="/locale/(\w+)\?next=[^"]*"([^>]*)>', html))

    assert sorted(links) == ["en", "fr", "it"]
    assert [code for code, attrs in links.items() if 'aria-current="true"' in attrs] == ["it"]


def test_context_values_are_escaped(templating: Templating) -> None:
    context = {"user": None, "flashes": [{"level": "error", "message": "<script>x()</script>"}]}

    html = templating.render("home.html", context, "en")

    assert "<script>x()</script>" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html


def test_interpolated_values_in_translations_are_escaped(templating: Templating) -> None:
    user = SimpleNamespace(login="<b>eve</b>", role="viewer")

    html = templating.render("home.html", dashboard_context(user), "fr")

    assert "Bon retour, &lt;b&gt;eve&lt;/b&gt;" in html


def test_unsupported_locale_renders_in_english(templating: Templating) -> None:
    html = templating.render("error.html", {"status_code": 404}, "de")

    assert "Page not found" in html
    assert '<html lang="en">' in html


def test_python_side_gettext_uses_the_catalog(templating: Templating) -> None:
    assert templating.gettext("it")("Page not found") == "Pagina non trovata"
    assert templating.gettext("en")("Page not found") == "Page not found"


def test_url_globals_can_be_overridden_one_at_a_time(compiled_locale_dir: Path) -> None:
    templating = Templating(
        TEMPLATES_DIR, compiled_locale_dir, globals={"urls": {"login": "/login/twitch"}}
    )

    html = templating.render("home.html", dashboard_context(STREAMER), "en")
    landing = templating.render("home.html", {"user": None}, "en")

    assert 'href="/login/twitch"' in landing
    assert 'action="/auth/logout"' in html


def test_missing_catalogs_fall_back_to_english_with_one_warning_per_locale(
    tmp_path: Path,
) -> None:
    with capture_logs() as logs:
        templating = Templating(TEMPLATES_DIR, tmp_path / "nowhere")
        first = templating.render("error.html", {"status_code": 404}, "fr")
        templating.render("error.html", {"status_code": 404}, "fr")

    assert "Page not found" in first
    assert '<html lang="fr">' in first
    warned = sorted(e["locale"] for e in logs if e["event"] == "web.i18n.catalog_missing")
    assert warned == ["fr", "it"]


@pytest.mark.parametrize(
    ("locale", "value", "expected"),
    [
        ("en", 7.25, "7.3"),
        ("fr", 7.25, "7,3"),
        ("en", 7.24, "7.2"),
        ("en", 10, "10.0"),
        ("it", 1234.5, "1.234,5"),
        ("en", None, "–"),
        ("en", "smash", "smash"),
    ],
)
def test_score_filter_rounds_half_up_in_the_locale_format(
    templating: Templating, locale: str, value: float | str | None, expected: str
) -> None:
    assert templating.environment(locale).filters["score"](value) == expected
