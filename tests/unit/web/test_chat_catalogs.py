"""What the bot says in chat is translated: every text of the chat answers and of the chat
command refusals has a French and an Italian entry, placeholders kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from premiere_ecoute.sessions.scores.chat_answers import MESSAGES, TOP_NUMERIC, answer_myvote
from premiere_ecoute.web.i18n import Catalogs

from .conftest import TRANSLATED_LOCALES, compile_catalogs
from .test_catalogs import PLACEHOLDER, load_catalog

REFUSALS = (
    "language must be one of %(choices)s",
    "chat commands are %(choices)s, each on or off",
    "the session is over: its chat commands are off",
)


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_every_chat_text_is_translated(locale: str) -> None:
    catalog = load_catalog(locale)
    for msgid in (*MESSAGES, *REFUSALS):
        entry = catalog.get(msgid)
        assert entry is not None and entry.string, msgid
        assert sorted(PLACEHOLDER.findall(entry.string)) == sorted(PLACEHOLDER.findall(msgid))


def test_the_bot_speaks_the_session_language(tmp_path: Path) -> None:
    catalogs = Catalogs(compile_catalogs(tmp_path))
    answers = {
        loc: answer_myvote("Alice", "Opening", "8", catalogs.gettext(loc))
        for loc in ("en", "fr", "it")
    }
    assert answers == {
        "en": "@Alice your rating of “Opening”: 8",
        "fr": "@Alice ta note de « Opening » : 8",
        "it": "@Alice il tuo voto per «Opening»: 8",
    }
    assert catalogs.gettext("de")(TOP_NUMERIC) == TOP_NUMERIC  # unknown: English
