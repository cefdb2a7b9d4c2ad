"""Flask-Babel for the server: which language a request gets, and the helpers that turn the
catalogue (queue_server/translations/) into what pages and answers show.

- Pages: `?lang=en|zh`; the staff pages (`/login`, `/counter`, `/manager`) remember it in the
  session; else Simplified Chinese (SPEC §3: the hall's screens and kiosks show Chinese
  whatever the language of the browser they run in).
- API answers (`/api/…`): `?lang=`, else `Accept-Language`, else Chinese. The pages' scripts
  send their page's language as `Accept-Language`, so their errors match the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale, get_translations, gettext, pgettext

from queue_server.errors import Named, Words, YihaoError
from queue_server.translations import (
    DEFAULT_LANGUAGE,
    DIRECTORY,
    LANGUAGES,
    LOCALES,
    Entry,
    language_of,
    table,
)

SESSION_LANGUAGE = "yihao_lang"
STAFF_BLUEPRINTS = ("staff", "counter", "manager")
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LOCALES[DEFAULT_LANGUAGE])
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(DIRECTORY)
    Babel(app, locale_selector=_select_locale)
    app.jinja_env.globals.update(local_name=local_name, local_location=local_location)


def _select_locale() -> str:
    return LOCALES[request_language()]


def request_language() -> str:
    requested = language_of(request.args.get("lang"))
    if requested:
        return requested
    if request.path.startswith("/api/"):
        accepted = request.accept_languages.best_match(["zh-CN", "zh", "en"])
        return language_of(accepted) or DEFAULT_LANGUAGE
    if request.blueprint in STAFF_BLUEPRINTS:
        return language_of(session.get(SESSION_LANGUAGE)) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """ "en" or "zh" for this request (Chinese outside one)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    locale = get_locale()
    if locale is None:
        return DEFAULT_LANGUAGE
    return language_of(str(locale)) or DEFAULT_LANGUAGE


def page_strings(entries: Iterable[Entry], prefix: str) -> dict[str, Any]:
    """A page's table (key → text, or {one, other}) in the request's language."""
    return table(entries, prefix, get_translations())


class HasName(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def name_en(self) -> str | None: ...


def local_name(item: HasName, language: str | None = None) -> str:
    """A business's, line's, counter's or site's name in the page's language: `name_en` on
    English pages when the hall file gives one."""
    if (language or current_language()) == "en" and item.name_en:
        return item.name_en
    return item.name


def local_location(location: str | None, location_en: str | None) -> str | None:
    if current_language() == "en" and location_en:
        return location_en
    return location


def _parameter(value: Any) -> Any:
    if isinstance(value, Named):
        return value.english if current_language() == "en" and value.english else str(value)
    if isinstance(value, Words):
        return pgettext(value.context, str(value)) if value.context else gettext(str(value))
    return value


def error_message(error: YihaoError) -> str:
    """The error's message in the request's language, its parameters filled in."""
    if not error.params:
        return gettext(error.msgid)
    params = {name: _parameter(value) for name, value in error.params.items()}
    return gettext(error.msgid, **params)


__all__ = ["LANGUAGES", "error_message", "init_app", "local_name", "page_strings"]
