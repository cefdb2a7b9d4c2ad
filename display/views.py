"""The public pages: /display/hall, /display/counter/<n> and /t/<ticket id>.

Each view parses its URL parameters, reads what the first paint needs, and renders one
template; everything live comes over Socket.IO (`/display`, `/ticket`). Strings come from
the one catalogue (display/texts.py lists the keys; Simplified Chinese by default, `?lang=en`
English, names from the hall file's `name_en`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for

from display.texts import PREFIX, TEXTS
from queue_server.app_context import yihao
from queue_server.config import Settings, SiteConfig
from queue_server.i18n import HTML_LANG, current_language, local_location, local_name, page_strings
from queue_server.services import tickets
from queue_server.services.views import public_ticket
from queue_server.web_policy import public_page_headers

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_SPEECH_REPEAT = 2
MAX_SPEECH_REPEAT = 5
TICKET_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
FALSE_WORDS = {"0", "false", "off", "no"}
RATING_REASONS = ("wait", "slow", "attitude", "skill", "unclear")
VERSIONED_MAX_AGE_S = 7 * 24 * 3600  # asset URLs carry ?v=<mtime>: a change makes a new URL
VOICE_MANIFEST = "voice/manifest.json"
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
    """Loaded once per app by register(): the sound defaults."""

    speech_repeat: int = DEFAULT_SPEECH_REPEAT
    # The offline voice for browsers without a Chinese voice: the clips' manifest (piece of a
    # call's speech -> file in static/voice/), made by `python -m display.make_voice`.
    voice_clips: bool = False

    @classmethod
    def load(cls, settings: Settings) -> DisplaySettings:
        return cls(
            speech_repeat=_clamp(settings.speech_repeat, 0, MAX_SPEECH_REPEAT),
            voice_clips=(PACKAGE_DIR / "static" / VOICE_MANIFEST).exists(),
        )


def _settings() -> DisplaySettings:
    settings: DisplaySettings = current_app.extensions["display"]
    return settings


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def page_language() -> str:
    return current_language()


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
        # Fetched by the announcer only when the browser has no Chinese voice.
        "clips": asset_url(VOICE_MANIFEST) if _settings().voice_clips else None,
    }


# The reasons of a low rating are stored as the Chinese words, whatever the screen's language.
RATING_REASON_WORDS = {
    entry[0].removeprefix(PREFIX + "rating.reason."): entry[1]
    for entry in TEXTS
    if entry[0].startswith(PREFIX + "rating.reason.")
}
PAGE_SECTIONS = ("hall.", "counter.", "rating.", "ticket.", "state.")


def page_sections(strings: dict[str, Any], sections: tuple[str, ...]) -> dict[str, Any]:
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
    strings = page_strings(TEXTS, PREFIX)
    page = {"lang": lang, "strings": page_sections(strings, sections), **page}
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
    return {
        "site": site.code,
        "siteName": local_name(site),
        "timezone": site.timezone,
        # English names of the lines, businesses and counters the live messages name in
        # Chinese (empty on Chinese pages: the scripts fall back to the message's name).
        "names": english_names(site) if page_language() == "en" else {},
    }


def english_names(site: SiteConfig) -> dict[str, dict[str, str]]:
    return {
        "queues": {queue.code: local_name(queue) for queue in site.queues},
        "services": {service.code: local_name(service) for service in site.services},
        "counters": {str(counter.number): local_name(counter) for counter in site.counters},
        "locations": {
            str(counter.number): location
            for counter in site.counters
            if (location := local_location(counter.location, counter.location_en))
        },
    }


display.after_request(public_page_headers)


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
        "counterName": local_name(counter),
        "location": local_location(counter.location, counter.location_en),
        "rating": flag_param("rating", True),
        # Reasons of a low rating are stored in Chinese, whatever the screen's language.
        "ratingReasons": {key: RATING_REASON_WORDS[key] for key in RATING_REASONS},
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
    site = yihao().site_holding(tickets.site_of_ticket, ticket_id)
    if site is None:
        return None
    return site, public_ticket(yihao().read(site, tickets.find_ticket, ticket_id))


def english_ticket(site: SiteConfig, ticket: dict[str, Any]) -> dict[str, Any]:
    """The first paint's ticket with the hall file's English names (the API's stay Chinese)."""
    ticket = dict(ticket)
    service = site.service(ticket.get("service") or "")
    if service is not None and "service_name" in ticket:
        ticket["service_name"] = local_name(service, "en")
    queue = site.queue(ticket.get("queue") or "")
    if queue is not None and "queue_name" in ticket:
        ticket["queue_name"] = local_name(queue, "en")
    if ticket.get("location"):
        english = {c.location: c.location_en for c in site.counters if c.location_en}
        ticket["location"] = english.get(ticket["location"], ticket["location"])
    return ticket


@display.get("/t/<ticket_id>")
def ticket_page(ticket_id: str) -> Response:
    found = find_public_ticket(ticket_id)
    if found is None:
        return not_found("error.unknown_ticket")
    site, ticket = found
    if page_language() == "en":
        ticket = english_ticket(site, ticket)
    page = {
        "page": "ticket",
        **site_page(site),
        "ticketId": ticket_id,
        "ticket": ticket,
        "services": {service.code: local_name(service) for service in site.services},
        "counters": {
            str(counter.number): {
                "name": local_name(counter),
                "location": local_location(counter.location, counter.location_en),
            }
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
