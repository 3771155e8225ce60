"""The French and Italian catalogs cover every string shown to people: the templates', the
msgids of the Python code (domain refusals, API errors, the changelog), and the names of
roles, session states and overlay modes. A refusal written in English in place (not a msgid)
fails too."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import premiere_ecoute
from premiere_ecoute.accounts.models import Role
from premiere_ecoute.core.errors import DomainError
from premiere_ecoute.web.i18n import Templating
from premiere_ecoute.web.routes.session_pages import OVERLAY_MODES

from .conftest import LOCALE_SOURCE_DIR, TEMPLATES_DIR, TRANSLATED_LOCALES, WEB_DIR

SRC_DIR = WEB_DIR.parent
# Messages for operators at the command line only, before the app runs.
OPERATOR_ONLY = {"config.py"}

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def template_msgids() -> set[str]:
    found = extract_from_dir(
        str(TEMPLATES_DIR),
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}},
    )
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def python_msgids() -> set[str]:
    """``_``/``N_``/``gettext`` strings of the code: refusals, API errors, flash messages."""
    found = extract_from_dir(str(SRC_DIR), method_map=[("**.py", "python")])
    return {
        message[0] if isinstance(message, tuple) else message
        for _, _, message, _, _ in found
        if isinstance(message, str | tuple)
    }


def _domain_error_names() -> set[str]:
    for module in pkgutil.walk_packages(premiere_ecoute.__path__, "premiere_ecoute."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)

    def subclasses(kind: type) -> set[str]:
        return {kind.__name__}.union(*(subclasses(k) for k in kind.__subclasses__()))

    return subclasses(DomainError) | {"_Retryable"}


def _written_in_place(node: ast.expr) -> bool:
    """A literal text (or an f-string, or one built from literals): not a msgid."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _written_in_place(node.left) or _written_in_place(node.right)
    if isinstance(node, ast.IfExp):
        return _written_in_place(node.body) or _written_in_place(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _written_in_place(node.func.value)
    return False


def refusals_written_in_place() -> list[str]:
    """Errors built with an English text instead of a msgid (``N_``/``_``/``refuse``)."""
    names = _domain_error_names()
    found: list[str] = []
    for path in sorted(SRC_DIR.rglob("*.py")):
        relative = path.relative_to(SRC_DIR).as_posix()
        if relative in OPERATOR_ONLY or relative.startswith("migrations/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in names or not node.args:
                continue
            message = node.args[-1] if name == "_Retryable" else node.args[0]
            if _written_in_place(message):
                found.append(f"{relative}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


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


def test_the_code_contains_translatable_refusals() -> None:
    msgids = python_msgids()

    assert len(msgids) > 150
    assert "session %(id)s is already active: stop it first" in msgids
    assert "Not a Spotify album id or link: '%(value)s'" in msgids
    assert "Field required" in msgids  # an API error


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_every_string_of_the_code_has_a_translation(locale: str) -> None:
    catalog = load_catalog(locale)

    missing = sorted(m for m in python_msgids() if not (catalog.get(m) and catalog[m].string))

    assert missing == []


def test_no_refusal_is_written_in_english_in_place() -> None:
    assert refusals_written_in_place() == []


def test_the_scan_finds_a_refusal_written_in_place(tmp_path: Path) -> None:
    tree = ast.parse('raise InvalidState(f"session {n} is over")')
    call = tree.body[0].exc  # type: ignore[attr-defined]
    assert _written_in_place(call.args[0])
    assert not _written_in_place(ast.parse('N_("x")').body[0].value)  # type: ignore[attr-defined]


def _labels(templating: Templating, macro: str, values: list[str], locale: str) -> list[str]:
    source = '{%% import "_macros.html" as m %%}{%% for v in values %%}{{ m.%s(v) }}|{%% endfor %%}'
    template = templating.environment(locale).from_string(source % macro)
    return template.render(values=values).split("|")[:-1]


@pytest.mark.parametrize(
    ("macro", "values"),
    [
        ("role_label", [r.value for r in Role]),
        ("status_label", ["preparing", "active", "stopped"]),
        ("overlay_mode_label", list(OVERLAY_MODES)),
    ],
)
def test_every_role_state_and_mode_has_a_translated_name(
    templating: Templating, macro: str, values: list[str]
) -> None:
    english = _labels(templating, macro, values, "en")
    assert [label for label, value in zip(english, values, strict=True) if label == value] == []
    for locale in TRANSLATED_LOCALES:
        catalog = load_catalog(locale)
        translated = _labels(templating, macro, values, locale)
        assert translated == [catalog[label].string for label in english]


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
