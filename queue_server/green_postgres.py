"""psycopg's wait for a query's answer, on the gevent hub's own socket watchers.

Under gevent psycopg avoids its C wait (it would block the hub) and falls back to
`wait_poll`, which goes through gevent's emulation of `select.poll`: a poll object, a
watcher set, a result object and a timeout for every statement. `wait_on_the_hub` starts
one watcher a wait instead, for less CPU a request (docs/PERFORMANCE.md, run N). Like
gevent's `poll`, it gives the watcher the loop's highest priority: a request already
talking to the database goes on before the hub reads new requests and socket frames, so
work started is finished first.

psycopg calls `psycopg.waiting.wait` through the module at every wait (`Connection.wait`),
so replacing that function is the seam; tests/integration/test_green_postgres.py fails if
psycopg stops calling it."""

from __future__ import annotations

from typing import Any

import psycopg.waiting
from gevent import get_hub
from gevent.monkey import get_original, is_module_patched
from psycopg.waiting import READY_NONE, READY_R, READY_W, WAIT_R, WAIT_RW, WAIT_W

_library_wait = psycopg.waiting.wait
_select_now = get_original("select", "select")  # the real one, whether patched or not

# psycopg's waits as the event bits of gevent's loop (libev's and libuv's READ 1, WRITE 2).
_LOOP_EVENTS = {WAIT_R: 1, WAIT_W: 2, WAIT_RW: 3}


def wait_on_the_hub(
    gen: Any, fileno: int, interval: float = 0.0, timeout: float | None = None
) -> Any:
    """psycopg's `wait(gen, fileno, interval, timeout)`: drive the generator, suspending
    this greenlet until its socket is ready. `interval` only lets a blocking wait notice
    Ctrl+C, which a greenlet needs not; a wait with a deadline (psycopg's rare cancel and
    close paths) keeps the library's own function."""
    if timeout is not None:
        return _library_wait(gen, fileno, interval, timeout)
    hub = get_hub()
    loop = hub.loop
    ready: int
    try:
        waiting_for = next(gen)
        while True:
            watcher = loop.io(fileno, _LOOP_EVENTS[waiting_for], True, loop.MAXPRI)
            try:
                hub.wait(watcher)
            finally:
                watcher.close()
            if waiting_for == WAIT_R:
                ready = READY_R
            elif waiting_for == WAIT_W:
                ready = READY_W
            else:  # both: a query bigger than the socket's buffer, sent while answers come
                ready = _ready_now(fileno)
            waiting_for = gen.send(ready)
    except StopIteration as done:
        return done.value


def _ready_now(fileno: int) -> int:
    readable, writable, _ = _select_now([fileno], [fileno], [], 0)
    ready: int = READY_NONE
    if readable:
        ready |= READY_R
    if writable:
        ready |= READY_W
    return ready


def install_if_gevent() -> bool:
    """Use `wait_on_the_hub` when gevent has patched `select` (run.py's default mode):
    True if it is in use."""
    if not is_module_patched("select"):
        return False
    psycopg.waiting.wait = wait_on_the_hub
    return True
