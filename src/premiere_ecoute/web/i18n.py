"""Locale negotiation and per-locale Jinja2 rendering.

One Jinja2 environment is built per supported locale because installing gettext translations
mutates an environment: sharing one between concurrent requests in different languages would
leak one request's language into another's page.
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from premiere_ecoute.core.display import SCORE_DIGITS, rounded_score

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "fr", "it")
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "locale"
# Shown in each language's own name so a reader can find theirs whatever the page language.
LOCALE_NAMES: Mapping[str, str] = {"en": "English", "fr": "Français", "it": "Italiano"}
CATALOG_DOMAIN = "messages"
# Links the templates use for authentication; the app may override them through `globals`.
DEFAULT_URLS: Mapping[str, str] = {
    "login": "/auth/twitch/login",
    "logout": "/auth/logout",
    "stop_impersonation": "/admin/impersonation/stop",
}


def _supported(tag: str | None) -> str | None:
    """Map a language tag (`fr`, `fr-CA`, `it_IT`) onto a supported locale, if any."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in SUPPORTED_LOCALES else None


def parse_accept_language(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most preferred first; q=0 entries dropped."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, *params = (piece.strip() for piece in part.split(";"))
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            # The index keeps the header's order among equal weights (a stable sort by -q).
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate_locale(
    query_locale: str | None, cookie: str | None, accept_language: str | None
) -> str:
    """Pick the page language: `?locale=`, then the cookie, then Accept-Language, then English."""
    for candidate in (query_locale, cookie):
        chosen = _supported(candidate)
        if chosen:
            return chosen
    for tag in parse_accept_language(accept_language or ""):
        chosen = _supported(tag)
        if chosen:
            return chosen
    return DEFAULT_LOCALE


def _load_translations(locale_dir: Path, locale: str) -> gettext_module.NullTranslations:
    mo_file = locale_dir / locale / "LC_MESSAGES" / f"{CATALOG_DOMAIN}.mo"
    if locale == DEFAULT_LOCALE or mo_file.is_file():
        # English is the source language: its msgids are the text, no catalog needed.
        translations = Translations.load(str(locale_dir), [locale], CATALOG_DOMAIN)
        return translations
    structlog.get_logger(__name__).warning(
        "web.i18n.catalog_missing",
        locale=locale,
        path=str(mo_file),
        hint="run scripts/build-assets to compile the catalogs",
    )
    return gettext_module.NullTranslations()


LOCALE_DIR = Path(__file__).parent / "locale"


class Catalogs:
    """The catalogs alone, for texts built outside a page (what the bot says in chat)."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self._translations = {
            locale: _load_translations(locale_dir, locale) for locale in SUPPORTED_LOCALES
        }

    def gettext(self, locale: str) -> Callable[[str], str]:
        translations = self._translations.get(locale, self._translations[DEFAULT_LOCALE])
        return translations.gettext


class Templating:
    """Renders templates in a given locale; one Jinja2 environment per supported locale."""

    def __init__(
        self,
        templates_dir: Path,
        locale_dir: Path,
        *,
        globals: dict[str, Any] | None = None,  # named after Jinja2's own `globals`
    ) -> None:
        self._templates_dir = templates_dir
        self._locale_dir = locale_dir
        extra = dict(globals or {})
        # Overriding one link must not drop the others the layout relies on.
        urls = {**DEFAULT_URLS, **extra.pop("urls", {})}
        self._globals: dict[str, Any] = {
            "SUPPORTED_LOCALES": SUPPORTED_LOCALES,
            "LOCALE_NAMES": LOCALE_NAMES,
            "urls": urls,
            **extra,
        }
        self._translations = {
            locale: _load_translations(locale_dir, locale) for locale in SUPPORTED_LOCALES
        }
        self._environments = {
            locale: self._build_environment(locale) for locale in SUPPORTED_LOCALES
        }

    def _build_environment(self, locale: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(str(self._templates_dir)),
            autoescape=select_autoescape(default=True, default_for_string=True),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # newstyle gettext escapes interpolated values and fails loudly on missing placeholders.
        env.install_gettext_translations(self._translations[locale], newstyle=True)  # type: ignore[attr-defined]
        env.globals.update(self._globals)
        env.globals["current_locale"] = locale
        env.filters.update(_locale_filters(locale))
        return env

    def environment(self, locale: str) -> Environment:
        """The environment of `locale`, English for an unsupported one."""
        return self._environments.get(locale, self._environments[DEFAULT_LOCALE])

    def render(self, name: str, context: Mapping[str, Any], locale: str) -> str:
        env = self.environment(locale)
        values = dict(context)
        values.setdefault("locale", locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)
        return env.get_template(name).render(values)

    def gettext(self, locale: str) -> Callable[[str], str]:
        """`gettext` for strings built in Python (flash messages, error texts)."""
        translations = self._translations.get(locale, self._translations[DEFAULT_LOCALE])
        return translations.gettext


def format_score(
    value: float | int | str | None, locale: Locale | str, digits: int = SCORE_DIGITS
) -> str:
    """A score as the locale writes it (7.5 / 7,5) by the one rule of ``core.display``;
    categorical scores pass through. Pages (the ``score`` filter), the recap card and the
    chat announcements all use it."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
    return format_decimal(rounded_score(value, digits), format=pattern, locale=locale)


class CatalogTranslator:
    """The domain's ``Translator`` over the pages' catalogs (chat announcements)."""

    def __init__(self, locale_dir: Path) -> None:
        self._translations = {
            locale: _load_translations(locale_dir, locale) for locale in SUPPORTED_LOCALES
        }

    def _of(self, language: str) -> gettext_module.NullTranslations:
        return self._translations.get(language, self._translations[DEFAULT_LOCALE])

    def gettext(self, language: str, msgid: str) -> str:
        return self._of(language).gettext(msgid)

    def ngettext(self, language: str, singular: str, plural: str, n: int) -> str:
        return self._of(language).ngettext(singular, plural, n)

    def score(self, language: str, value: Any) -> str:
        return format_score(value, language if language in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def _locale_filters(locale: str) -> dict[str, Callable[..., str]]:
    babel_locale = Locale.parse(locale)

    def score(value: float | int | str | None) -> str:
        """Every score on a page: the one rule (one decimal, half up); exports skip it."""
        return format_score(value, babel_locale)

    def whole(value: float | int | None) -> str:
        """A share or a count shown whole (percentages of the honest figures)."""
        return format_score(value, babel_locale, 0)

    def number(value: float | int | None) -> str:
        return "–" if value is None else format_decimal(value, locale=babel_locale)

    def date_filter(value: date | datetime | None, style: str = "medium") -> str:
        return "" if value is None else format_date(value, format=style, locale=babel_locale)

    def datetime_filter(value: datetime | None, style: str = "medium") -> str:
        return "" if value is None else format_datetime(value, format=style, locale=babel_locale)

    return {
        "score": score,
        "whole": whole,
        "number": number,
        "date": date_filter,
        "datetime": datetime_filter,
    }
