"""The French and Italian catalogs cover every string of the templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from .conftest import LOCALE_SOURCE_DIR, TEMPLATES_DIR, TRANSLATED_LOCALES

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def template_msgids() -> set[str]:
    found = extract_from_dir(
        str(TEMPLATES_DIR),
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}},
    )
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def load_catalog(locale: str) -> Catalog:
    with (LOCALE_SOURCE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=locale)


def test_templates_contain_translatable_strings() -> None:
    assert len(template_msgids()) > 50


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_every_template_string_has_a_translation(locale: str) -> None:
    catalog = load_catalog(locale)

    missing = sorted(m for m in template_msgids() if not (catalog.get(m) and catalog[m].string))

    assert missing == []


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_no_catalog_entry_is_empty_or_fuzzy(locale: str) -> None:
    entries = [m for m in load_catalog(locale) if m.id]

    assert entries
    assert [m.id for m in entries if not m.string] == []
    assert [m.id for m in entries if m.fuzzy] == []


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_translations_keep_the_placeholders_of_the_original(locale: str) -> None:
    mismatched = [
        m.id
        for m in load_catalog(locale)
        if isinstance(m.id, str)
        and isinstance(m.string, str)
        and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]

    assert mismatched == []


def test_template_catalog_is_in_the_source_tree() -> None:
    assert Path(LOCALE_SOURCE_DIR / "messages.pot").is_file()
