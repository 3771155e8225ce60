"""Shared fixtures: catalogs compiled into a temporary directory, independent of build-assets."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from premiere_ecoute.web.i18n import Templating

WEB_DIR = Path(__file__).resolve().parents[3] / "src" / "premiere_ecoute" / "web"
TEMPLATES_DIR = WEB_DIR / "templates"
LOCALE_SOURCE_DIR = WEB_DIR / "locale"
TRANSLATED_LOCALES = ("fr", "it")


def compile_catalogs(target: Path) -> Path:
    for locale in TRANSLATED_LOCALES:
        po_path = LOCALE_SOURCE_DIR / locale / "LC_MESSAGES" / "messages.po"
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        mo_path = target / locale / "LC_MESSAGES" / "messages.mo"
        mo_path.parent.mkdir(parents=True)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
    return target


@pytest.fixture(scope="session")
def compiled_locale_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_catalogs(tmp_path_factory.mktemp("locale"))


@pytest.fixture(scope="session")
def templating(compiled_locale_dir: Path) -> Templating:
    return Templating(TEMPLATES_DIR, compiled_locale_dir)
