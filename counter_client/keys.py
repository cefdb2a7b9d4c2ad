"""The keys of both counter terminals, beside each other so the docs name them all
(docs/counter.md): the web terminal's function keys and the terminal client's command
letters (SPEC §3). Actions are the names of `queue_server.protocol.ACTIONS`."""

from __future__ import annotations

from typing import Final

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

# Terminal client commands: letter -> action.
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
    "l": "list",
    "q": "quit",
}
