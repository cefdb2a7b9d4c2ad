"""What both counter terminals rely on from the server, named once: the `/counter` Socket.IO
namespace, its events and payload keys, and the HTTP endpoints of counter and ticket actions.

The web terminal receives these tables in its page (so its script has no paths of its own);
the terminal client uses them directly. This module imports nothing from the server, so the
terminal client runs on a PC that has only the client's dependencies.
"""

from __future__ import annotations

from typing import Final

API_PREFIX: Final = "/api/v1"
LOGIN_PATH: Final = API_PREFIX + "/auth/login"
COUNTERS_PATH: Final = API_PREFIX + "/counters"
SERVICES_PATH: Final = API_PREFIX + "/services"

# -- Socket.IO `/counter` (SPEC §5) ------------------------------------------------------
NAMESPACE: Final = "/counter"
COUNTER_QUERY: Final = "counter"  # ?counter=N picks the counter's room
AUTH_KEY: Final = "token"  # the key of the bearer token in auth {token}
TRANSPORTS: Final = ("websocket",)

EVENT_SNAPSHOT: Final = "snapshot"  # on connect: the whole state below
EVENT_COUNTER: Final = "counter"  # {seq, counter, counter_name, location, state, clerk_name, ...}
EVENT_TICKET: Final = "ticket"  # {seq, counter, ticket: T | null}
EVENT_QUEUES: Final = "queues"  # {seq, queues, lines}, coalesced, for every counter of the site
EVENTS: Final = (EVENT_SNAPSHOT, EVENT_COUNTER, EVENT_TICKET, EVENT_QUEUES)

# Keys of the snapshot (GET /api/v1/counters/<n> answers the same object).
SEQ: Final = "seq"
KEY_COUNTER: Final = "counter"
KEY_TICKET: Final = "ticket"
KEY_QUEUES: Final = "queues"
KEY_LINES: Final = "lines"
KEY_HELD: Final = "held"
KEY_MISSED: Final = "missed"

# Counter states and the ticket states in which a ticket is at a counter.
COUNTER_OPEN: Final = "open"
COUNTER_PAUSED: Final = "paused"
COUNTER_CLOSED: Final = "closed"
IN_HAND: Final = ("called", "serving")

# -- actions: name -> (path under /api/v1, what the answer carries) ----------------------
# `{n}` is the counter number, `{id}` a ticket id. Answers: {"counter": ...} or {"ticket": ...}.
ACTIONS: Final[dict[str, str]] = {
    "sign_in": "/counters/{n}/sign-in",
    "sign_out": "/counters/{n}/sign-out",
    "pause": "/counters/{n}/pause",
    "resume": "/counters/{n}/resume",
    "call_next": "/counters/{n}/call-next",
    "call": "/counters/{n}/call",
    "recall": "/counters/{n}/recall",
    "start": "/counters/{n}/start",
    "finish": "/counters/{n}/finish",
    "no_show": "/counters/{n}/no-show",
    "transfer": "/counters/{n}/transfer",
    "hold": "/counters/{n}/hold",
    "return": "/tickets/{id}/return",
    "reinstate": "/tickets/{id}/reinstate",
}

# Web terminal buttons: action, function key. F8 toggles pause and resume.
SHORTCUTS: Final[tuple[tuple[str, str], ...]] = (
    ("call_next", "F1"),
    ("recall", "F2"),
    ("start", "F3"),
    ("finish", "F4"),
    ("no_show", "F5"),
    ("transfer", "F6"),
    ("hold", "F7"),
    ("pause_resume", "F8"),
)

# Terminal client commands (SPEC §3): letter -> action.
COMMANDS: Final[dict[str, str]] = {
    "n": "call_next",
    "c": "call",
    "r": "recall",
    "s": "start",
    "f": "finish",
    "x": "no_show",
    "t": "transfer",
    "h": "hold",
    "p": "pause",
    "u": "resume",
    "q": "quit",
}


def action_path(action: str, *, counter: int | None = None, ticket_id: str | None = None) -> str:
    """The absolute path of an action, e.g. action_path("call_next", counter=5)."""
    template = ACTIONS[action]
    return API_PREFIX + template.replace("{n}", str(counter)).replace("{id}", str(ticket_id))


def socket_url(server: str, counter: int) -> str:
    return f"{server.rstrip('/')}?{COUNTER_QUERY}={counter}"
