from __future__ import annotations

import pytest

from premiere_ecoute.web.i18n import negotiate_locale, parse_accept_language


def test_query_parameter_wins_over_cookie_and_header() -> None:
    assert negotiate_locale("it", "fr", "fr-FR,fr;q=0.9") == "it"


def test_cookie_wins_over_accept_language() -> None:
    assert negotiate_locale(None, "fr", "it-IT,it;q=0.9") == "fr"


def test_unsupported_query_falls_through_to_cookie() -> None:
    assert negotiate_locale("de", "it", "fr") == "it"


def test_unsupported_cookie_falls_through_to_header() -> None:
    assert negotiate_locale(None, "klingon", "it") == "it"


def test_regional_variants_map_to_their_language() -> None:
    assert negotiate_locale("fr-CA", None, None) == "fr"
    assert negotiate_locale(None, "it_IT", None) == "it"
    assert negotiate_locale(None, None, "EN-gb") == "en"


def test_nothing_usable_defaults_to_english() -> None:
    assert negotiate_locale(None, None, None) == "en"
    assert negotiate_locale("", "", "") == "en"
    assert negotiate_locale(None, None, "de-DE,es;q=0.8,*;q=0.5") == "en"


def test_accept_language_is_ordered_by_quality_not_position() -> None:
    assert negotiate_locale(None, None, "de;q=0.9,fr;q=0.4,it;q=0.7") == "it"


def test_accept_language_skips_languages_we_do_not_have() -> None:
    assert negotiate_locale(None, None, "de-DE,de;q=0.9,fr;q=0.8,en;q=0.7") == "fr"


def test_accept_language_refused_with_q_zero_is_never_chosen() -> None:
    assert negotiate_locale(None, None, "fr;q=0,it;q=0.1") == "it"
    assert negotiate_locale(None, None, "fr;q=0") == "en"


def test_accept_language_keeps_header_order_among_equal_qualities() -> None:
    assert parse_accept_language("it, fr;q=1.0, en") == ["it", "fr", "en"]


@pytest.mark.parametrize(
    "header",
    ["fr;q=abc,it", ";;;,it", "  ,  it  ", "fr;q=,it"],
)
def test_malformed_accept_language_parts_are_ignored(header: str) -> None:
    assert negotiate_locale(None, None, header) == "it"
