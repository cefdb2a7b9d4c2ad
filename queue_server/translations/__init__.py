"""The one translation catalogue: `messages.pot` and a `.po`/`.mo` per language in this folder.

Msgids are the Simplified Chinese source text (the SPEC's UI language), so a Chinese page or
message never depends on a compiled catalogue; `en/LC_MESSAGES/messages.po` holds the English.
Workflow (extract, update, compile): docs/i18n.md.

This module imports only the standard library: services, page tables and the terminal client
may use its markers and its reader without Flask or Babel.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final

DIRECTORY: Final = Path(__file__).resolve().parent
DOMAIN: Final = "messages"
LANGUAGES: Final = ("zh", "en")
DEFAULT_LANGUAGE: Final = "zh"
LOCALES: Final = {"zh": "zh_CN", "en": "en"}

# One entry of a page's table: (context, msgid) or (context, singular, plural). The context
# is "<page>.<key>"; the page's script looks its strings up by <key>.
Entry = tuple[str, str] | tuple[str, str, str]


def T_(context: str, message: str) -> tuple[str, str]:
    """Marks a page string for extraction (pybabel keyword `T_:1c,2`)."""
    return (context, message)


def TN_(context: str, singular: str, plural: str) -> tuple[str, str, str]:
    """Marks a page string with a plural (keyword `TN_:1c,2,3`): the script gets both forms."""
    return (context, singular, plural)


def language_of(requested: str | None) -> str | None:
    """ "en", "en-US", "zh", "zh-CN" … → "en" / "zh"; anything else → None."""
    if not requested:
        return None
    base = requested.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of `language` read with the standard library (the Chinese one is
    the msgids themselves)."""
    return gettext.translation(
        DOMAIN, localedir=DIRECTORY, languages=[LOCALES.get(language, language)], fallback=True
    )


def table(
    entries: Iterable[Entry], prefix: str, catalogue: gettext.NullTranslations
) -> dict[str, Any]:
    """A page's strings by key: the context without `prefix`; a key with a plural gets
    `{"one": …, "other": …}`. Keys with dots inside stay flat."""
    strings: dict[str, Any] = {}
    for entry in entries:
        context = entry[0]
        key = context.removeprefix(prefix)
        if len(entry) == 2:
            strings[key] = catalogue.pgettext(context, entry[1])
        else:
            strings[key] = {
                "one": catalogue.npgettext(context, entry[1], entry[2], 1),
                "other": catalogue.npgettext(context, entry[1], entry[2], 2),
            }
    return strings


def entries_by_key(entries: Iterable[Entry], prefix: str) -> Mapping[str, Entry]:
    return {entry[0].removeprefix(prefix): entry for entry in entries}
