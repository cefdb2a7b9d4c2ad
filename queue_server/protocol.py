"""What the server and its stand-alone clients say to each other, named once: HTTP paths,
Socket.IO namespaces, the query and auth keys of a connection, event names and payload keys
(SPEC §4, §5).

The server (`queue_server.realtime`, `counter_client.web`), the terminal client
(`python -m counter_client`) and the print agent (`python -m ticket_printer.agent`) import
these names from here. This module imports only the standard library, so a clerk's PC or a
kiosk PC runs its client without the server's packages (requirements-client.txt).
"""

from __future__ import annotations

from typing import Final

# -- HTTP (SPEC §4) ----------------------------------------------------------------------
API_PREFIX: Final = "/api/v1"
LOGIN_PATH: Final = API_PREFIX + "/auth/login"
COUNTERS_PATH: Final = API_PREFIX + "/counters"
SERVICES_PATH: Final = API_PREFIX + "/services"
QUEUES_PATH: Final = API_PREFIX + "/queues"

# Counter and ticket actions: name -> path under API_PREFIX; `{n}` is the counter number,
# `{id}` a ticket id. Answers: {"counter": ...} or {"ticket": ...}.
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


def action_path(action: str, *, counter: int | None = None, ticket_id: str | None = None) -> str:
    """The absolute path of an action, e.g. action_path("call_next", counter=5)."""
    template = ACTIONS[action]
    return API_PREFIX + template.replace("{n}", str(counter)).replace("{id}", str(ticket_id))


# -- Socket.IO (SPEC §5) -----------------------------------------------------------------
TRANSPORTS: Final = ("websocket",)  # clients connect with WebSocket from the start

DISPLAY_NAMESPACE: Final = "/display"  # hall and counter-top screens (public)
COUNTER_NAMESPACE: Final = "/counter"  # a clerk's terminal: auth {token}, query counter
TICKET_NAMESPACE: Final = "/ticket"  # a visitor's phone: auth {ticket}
MANAGER_NAMESPACE: Final = "/manager"  # managers' board: auth {token}
KIOSK_NAMESPACE: Final = "/kiosk"  # print agents: auth {kiosk, token}

# Query keys of a connection (they pick the rooms it joins).
SITE_QUERY: Final = "site"  # ?site=CODE; the default site when absent or empty
COUNTER_QUERY: Final = "counter"  # ?counter=N: the counter's room on /counter

# Keys of the auth object of a connection. AUTH_TOKEN holds a staff bearer token (/counter,
# /manager) or a kiosk's agent_token (/kiosk).
AUTH_TOKEN: Final = "token"  # noqa: S105 - the name of a key, not a token
AUTH_TICKET: Final = "ticket"  # the ticket id (/ticket)
AUTH_KIOSK: Final = "kiosk"  # the kiosk code (/kiosk)

# Events, server → client.
EVENT_SNAPSHOT: Final = "snapshot"  # first on every connect: the whole current state
EVENT_COUNTER: Final = "counter"  # {seq, counter, counter_name, location, state, clerk_name, ...}
EVENT_TICKET: Final = "ticket"  # /counter: {seq, counter, ticket: T | null}; /ticket: its state
EVENT_QUEUES: Final = "queues"  # {seq, queues, lines}, coalesced
EVENT_STATS: Final = "stats"  # /manager: as GET stats/live
EVENT_CALL: Final = "call"  # /display: {seq, number, counter, counter_name, queue, text, speech…}
EVENT_EVALUATE: Final = "evaluate"  # /display: {seq, counter, open}: the rating buttons
EVENT_NOTICE: Final = "notice"  # /display: {seq, text}: the hall notice changed
EVENT_ALERT: Final = "alert"  # /manager: {seq, kind, message, at}
EVENT_JOB: Final = "job"  # /kiosk: {id, ticket_id, number, reprint, attempt, view, layout}
# Events, print agent → server; each is answered {ok: true} (or {ok: false, error}).
EVENT_ACK: Final = "ack"  # {job: id}: the ticket is on paper
EVENT_FAILED: Final = "failed"  # {job: id, error: text, fault: bool}

# Keys of the /counter snapshot (GET /api/v1/counters/<n> answers the same object).
SEQ: Final = "seq"
KEY_COUNTER: Final = "counter"
KEY_TICKET: Final = "ticket"
KEY_QUEUES: Final = "queues"
KEY_LINES: Final = "lines"
KEY_HELD: Final = "held"
KEY_MISSED: Final = "missed"

# Keys of the /kiosk `job` message and of the agent's answers.
JOB_ID: Final = "id"
JOB_NUMBER: Final = "number"
JOB_VIEW: Final = "view"  # the fields of ticket_printer.render.TicketView
JOB_LAYOUT: Final = "layout"  # {paper_mm, chinese, qr}: the kiosk's paper
REPLY_JOB: Final = "job"
REPLY_ERROR: Final = "error"
REPLY_FAULT: Final = "fault"  # true when the printer itself is at fault (paper out, cover open)
