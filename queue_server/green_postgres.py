"""psycopg's wait for a query's answer, on the gevent hub's own socket watchers.

Under gevent psycopg avoids its C wait (it would block the hub) and falls back to
`wait_poll`, which goes through gevent's emulation of `select.poll`: a poll object, a
watcher set, a result object and a timeout for every statement. `wait_on_the_hub` waits
with `gevent.socket.wait_read` / `wait_write` instead, one watcher a wait, for less CPU a
request (docs/PERFORMANCE.md, run N).

psycopg calls `psycopg.waiting.wait` through the module at every wait (`Connection.wait`),
so replacing that function is the seam; tests/integration/test_green_postgres.py fails if
psycopg stops calling it."""

from __future__ import annotations

from typing import Any

import psycopg.waiting
from psycopg.waiting import READY_NONE, READY_R, READY_W, WAIT_R, WAIT_W

_library_wait = psycopg.waiting.wait


def wait_on_the_hub(
    gen: Any, fileno: int, interval: float = 0.0, timeout: float | None = None
) -> Any:
    """psycopg's `wait(gen, fileno, interval, timeout)`: drive the generator, suspending
    this greenlet until its socket is ready. `interval` only lets a blocking wait notice
    Ctrl+C, which a greenlet needs not; a wait with a deadline (psycopg's rare cancel and
    close paths) keeps the library's own function."""
    if timeout is not None:
        return _library_wait(gen, fileno, interval, timeout)
    from gevent.monkey import get_original
    from gevent.socket import wait_read, wait_readwrite, wait_write

    ready: int
    try:
        waiting_for = next(gen)
        while True:
            if waiting_for == WAIT_R:
                wait_read(fileno)
                ready = READY_R
            elif waiting_for == WAIT_W:
                wait_write(fileno)
                ready = READY_W
            else:  # both: a query bigger than the socket's buffer, sent while answers come
                wait_readwrite(fileno)
                select_now = get_original("select", "select")
                readable, writable, _ = select_now([fileno], [fileno], [], 0)
                ready = READY_NONE
                if readable:
                    ready |= READY_R
                if writable:
                    ready |= READY_W
            waiting_for = gen.send(ready)
    except StopIteration as done:
        return done.value


def install_if_gevent() -> bool:
    """Use `wait_on_the_hub` when gevent has patched `select` (run.py's default mode):
    True if it is in use."""
    try:
        from gevent.monkey import is_module_patched
    except ImportError:
        return False
    if not is_module_patched("select"):
        return False
    psycopg.waiting.wait = wait_on_the_hub
    return True
