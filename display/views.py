"""The public pages: /display/hall, /display/counter/<n> and /t/<ticket id>.

Each view parses its URL parameters, reads what the first paint needs, and renders one
template; everything live comes over Socket.IO (`/display`, `/ticket`). Strings come from
one catalog, display/i18n.json (Simplified Chinese by default, `?lang=en` English).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for

from queue_server.app_context import yihao
from queue_server.config import Settings, SiteConfig
from queue_server.services import tickets
from queue_server.services.views import public_ticket

PACKAGE_DIR = Path(__file__).resolve().parent
CATALOG_PATH = PACKAGE_DIR / "i18n.json"
LANGUAGES = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}
DEFAULT_SPEECH_REPEAT = 2
MAX_SPEECH_REPEAT = 5
TICKET_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
FALSE_WORDS = {"0", "false", "off", "no"}
RATING_REASONS = ("wait", "slow", "attitude", "skill", "unclear")
VERSIONED_MAX_AGE_S = 7 * 24 * 3600  # asset URLs carry ?v=<mtime>: a change makes a new URL
PLAIN_MAX_AGE_S = 3600  # e.g. the vendored client loaded by other pages without ?v=


class DisplayBlueprint(Blueprint):
    """Halls run on slow intranets and phones on weak connections: let browsers keep the
    static files (our own pages ask for them with a version in the URL)."""

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        return VERSIONED_MAX_AGE_S if request.args.get("v") else PLAIN_MAX_AGE_S


display = DisplayBlueprint(
    "display",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/display/static",
)


@dataclass(frozen=True)
class DisplaySettings:
    """Loaded once per app by register(): the string catalog and the sound defaults."""

    catalog: dict[str, dict[str, str]]
    speech_repeat: int = DEFAULT_SPEECH_REPEAT

    @classmethod
    def load(cls, settings: Settings) -> DisplaySettings:
        catalog = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
        missing = set(catalog["zh"]) ^ set(catalog["en"])
        if missing:
            raise ValueError(f"display/i18n.json: keys not in both languages: {sorted(missing)}")
        repeat = _clamp(settings.speech_repeat, 0, MAX_SPEECH_REPEAT)
        return cls(catalog=catalog, speech_repeat=repeat)


def _settings() -> DisplaySettings:
    settings: DisplaySettings = current_app.extensions["display"]
    return settings


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def page_language() -> str:
    requested = (request.args.get("lang") or "").lower()
    return "en" if requested.startswith("en") else "zh"


def int_param(name: str, default: int, low: int, high: int) -> int:
    try:
        return _clamp(int(request.args.get(name, default)), low, high)
    except ValueError:
        return default


def float_param(name: str, default: float, low: float, high: float) -> float:
    try:
        value = float(request.args.get(name, default))
    except ValueError:
        return default
    return max(low, min(high, value)) if math.isfinite(value) else default


def flag_param(name: str, default: bool) -> bool:
    value = request.args.get(name)
    if value is None:
        return default
    return value.strip().lower() not in FALSE_WORDS


def asset_url(filename: str) -> str:
    """A static file's URL with its modification time, so browsers may cache it long."""
    path = PACKAGE_DIR / "static" / filename
    version = int(path.stat().st_mtime) if path.exists() else 0
    return url_for("display.static", filename=filename, v=version)


def sound_options(*, enabled_by_default: bool) -> dict[str, Any]:
    """?sound=0 silent, ?voice=0 chime only, ?repeat=N times each call is spoken, ?rate=."""
    return {
        "enabled": flag_param("sound", enabled_by_default),
        "voice": flag_param("voice", True),
        "repeat": int_param("repeat", _settings().speech_repeat, 0, MAX_SPEECH_REPEAT),
        "rate": float_param("rate", 0.9, 0.5, 1.5),
    }


PAGE_SECTIONS = ("hall.", "counter.", "rating.", "ticket.", "state.")


def page_strings(strings: dict[str, str], sections: tuple[str, ...]) -> dict[str, str]:
    """The shared strings and those of the page's own sections: phones load less."""
    return {
        key: text
        for key, text in strings.items()
        if key.startswith(sections) or not key.startswith(PAGE_SECTIONS)
    }


def render_page(
    template: str,
    page: dict[str, Any],
    status: int = 200,
    sections: tuple[str, ...] = (),
    **context: Any,
) -> Response:
    lang = page_language()
    strings = _settings().catalog[lang]
    page = {"lang": lang, "strings": page_strings(strings, sections), **page}
    html = render_template(
        template,
        t=strings,
        lang=lang,
        html_lang=HTML_LANG[lang],
        page=page,
        asset=asset_url,
        **context,
    )
    return Response(html, status=status, mimetype="text/html")


def not_found(message_key: str) -> Response:
    response = render_page(
        "display/not_found.html", {"page": "not_found"}, 404, message_key=message_key
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def requested_site() -> SiteConfig | None:
    return yihao().hall.config.site(request.args.get("site"))


def site_page(site: SiteConfig) -> dict[str, Any]:
    return {"site": site.code, "siteName": site.name, "timezone": site.timezone}


@display.get("/display/hall")
def hall_screen() -> Response:
    site = requested_site()
    if site is None:
        return not_found("error.unknown_site")
    page = {"page": "hall", **site_page(site), "sound": sound_options(enabled_by_default=True)}
    response = render_page("display/hall.html", page, sections=("hall.",), site=site)
    response.headers["Cache-Control"] = "no-cache"
    return response


@display.get("/display/counter/<int:number>")
def counter_screen(number: int) -> Response:
    site = requested_site()
    if site is None:
        return not_found("error.unknown_site")
    counter = next((item for item in site.counters if item.number == number), None)
    if counter is None:
        return not_found("error.unknown_counter")
    page = {
        "page": "counter",
        **site_page(site),
        "counter": counter.number,
        "counterName": counter.name,
        "location": counter.location,
        "rating": flag_param("rating", True),
        # Reasons of a low rating are stored in Chinese, whatever the screen's language.
        "ratingReasons": {
            key: _settings().catalog["zh"][f"rating.reason.{key}"] for key in RATING_REASONS
        },
        # The hall screen speaks; a counter-top screen only flashes unless asked (?sound=1).
        "sound": sound_options(enabled_by_default=False),
    }
    response = render_page(
        "display/counter.html",
        page,
        sections=("counter.", "rating."),
        site=site,
        counter=counter,
        reasons=RATING_REASONS,
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def find_public_ticket(ticket_id: str) -> tuple[SiteConfig, dict[str, Any]] | None:
    if not TICKET_ID.fullmatch(ticket_id):
        return None
    app_state = yihao()
    for site in app_state.hall.config.sites:
        if app_state.read(site, tickets.ticket_in_site, ticket_id):
            view = app_state.read(site, tickets.find_ticket, ticket_id)
            return site, public_ticket(view)
    return None


@display.get("/t/<ticket_id>")
def ticket_page(ticket_id: str) -> Response:
    found = find_public_ticket(ticket_id)
    if found is None:
        return not_found("error.unknown_ticket")
    site, ticket = found
    page = {
        "page": "ticket",
        **site_page(site),
        "ticketId": ticket_id,
        "ticket": ticket,
        "services": {service.code: service.name for service in site.services},
        "counters": {
            str(counter.number): {"name": counter.name, "location": counter.location}
            for counter in site.counters
        },
    }
    response = render_page(
        "display/ticket.html", page, sections=("ticket.", "state."), site=site, ticket=ticket
    )
    # The address is the visitor's key: never cached by proxies, never sent on as a referrer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
