"""Extract, update, compile and check the catalogue with Babel (a developer's and the tests'
tool; the server reads the compiled `.mo` files through Flask-Babel, the terminal client
through the standard library)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from queue_server.translations import DIRECTORY, DOMAIN, LOCALES

ROOT = DIRECTORY.parent.parent
SOURCES = ("queue_server", "display", "ticket_printer", "counter_client")
POT = DIRECTORY / f"{DOMAIN}.pot"
# Besides gettext's own: the error classes (message first), the page tables' markers, and
# the services' helpers that take a word of ours to put inside a message.
KEYWORDS: dict[str, tuple[int | tuple[int, str], ...] | None] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "lazy_gettext": None,
    "N_": None,
    "NP_": ((1, "c"), 2),
    "T_": ((1, "c"), 2),
    "TN_": ((1, "c"), 2, 3),
    "BadRequest": None,
    "Conflict": None,
    "NotFound": None,
    "Forbidden": None,
    "Unauthenticated": None,
    "YihaoError": None,
    "Unavailable": None,
    "IdentityError": (2,),
    "require_state": (4,),
    "state_conflict": (3,),
    "_in_hand": (3,),
    "_require_empty_hands": (2,),
}


def po_path(locale: str) -> Path:
    return DIRECTORY / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str) -> Path:
    return DIRECTORY / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _extracted() -> Iterator[tuple[str, int, str | tuple[str, ...], list[str], str | None]]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / source,
            method_map,
            options_map,
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
        ):
            yield f"{source}/{filename}", lineno, message, comments, context


def template() -> Catalog:
    catalog = Catalog(project="yihao", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in _extracted():
        catalog.add(
            message,
            None,
            [(filename, lineno)],
            auto_comments=comments,
            context=context,
        )
    return catalog


def _write_po(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_output=False, include_lineno=False)
    path.write_bytes(buffer.getvalue())


def _read_po(path: Path, locale: str) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def extract() -> Catalog:
    catalog = template()
    _write_po(POT, catalog)
    return catalog


def update() -> None:
    """Merge the template into each language's `.po` (new msgids come in empty, gone ones
    are dropped)."""
    with POT.open("rb") as file:
        pot = read_po(file)
    for locale in LOCALES.values():
        path = po_path(locale)
        catalog = _read_po(path, locale) if path.exists() else Catalog(locale=locale)
        catalog.update(pot, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _write_po(path, catalog)


def compiled(locale: str) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, _read_po(po_path(locale), locale), use_fuzzy=False)
    return buffer.getvalue()


def compile_all() -> None:
    for locale in LOCALES.values():
        mo_path(locale).write_bytes(compiled(locale))


def _key(
    message_id: str | tuple[str, ...] | list[str], context: str | None
) -> tuple[str, str | None]:
    return (message_id if isinstance(message_id, str) else message_id[0], context)


def check() -> list[str]:
    """What is wrong with the catalogue: msgids in the code but not in a `.po`, English
    missing or fuzzy, a `.mo` that is not the compiled `.po`."""
    problems: list[str] = []
    wanted = {_key(message.id, message.context) for message in template() if message.id}
    for locale in LOCALES.values():
        catalog = _read_po(po_path(locale), locale)
        present = {_key(message.id, message.context) for message in catalog if message.id}
        for missing in sorted(wanted - present, key=str):
            problems.append(f"{locale}: not in the catalogue (run update): {missing}")
        for message in catalog:
            if not message.id:
                continue
            if message.fuzzy:
                problems.append(f"{locale}: fuzzy: {message.id!r}")
            if locale == "en":
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if not all(strings):
                    problems.append(f"en: no English for {message.context!r} {message.id!r}")
        if not mo_path(locale).exists() or mo_path(locale).read_bytes() != compiled(locale):
            problems.append(f"{locale}: {mo_path(locale).name} is not current (run compile)")
    return problems
