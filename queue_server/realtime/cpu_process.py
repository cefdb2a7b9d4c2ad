"""Pure functions (the wait estimator, the what-if simulator) in a child process of their
own, so their CPU never holds the GIL of a process that serves sockets.

Under gevent every request, push and socket of a server process runs in one thread. The
wait estimator (`domain.estimates.estimate_waits`) is pure Python and runs for tens of
milliseconds per board; in a real thread beside the hub it still shared the GIL, and each
time the hub woke for a database reply or a socket it waited up to a switch interval
(5 ms) for the estimator to let go. On PostgreSQL + Redis with two processes, 10 screens
and 20 calls/s, call → screen p99 was 122–166 ms; with the estimator in a child, 49–63 ms
(docs/PERFORMANCE.md, run K). The server pays only the pickling of the inputs and of the
result. A what-if starts a child of its own for its two simulated days, so a long
simulation never delays the boards.

The child is started with the interpreter (`python -m queue_server.realtime.cpu_process`)
on the first call, reads one pickled call at a time from its stdin and writes the pickled
outcome to its stdout; its stdin closing (the server exits or stops it) ends it. The pipes
are the server's own, and only functions of the domain and of the simulator are sent
(`queue_server.domain`, `queue_server.simulation`: pure, no database). Under
gevent (`subprocess` patched) the server waits on the pipe cooperatively. If the child
cannot start or dies, the call runs here instead and the next call starts a new child.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

HEADER = struct.Struct("!I")  # the length of the pickle that follows
PURE_MODULES = ("queue_server.domain.", "queue_server.simulation.")  # what may run there
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding queue_server/


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise EOFError("the child process closed its pipe")
    return data


def _write_message(stream: IO[bytes], value: Any) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_message(stream: IO[bytes]) -> Any:
    (size,) = HEADER.unpack(_read_exactly(stream, HEADER.size))
    # The pipe joins this server and its own child: nobody else writes to it.
    return pickle.loads(_read_exactly(stream, size))  # noqa: S301


class CpuProcess:
    """Calls `function(*args, **kwargs)` in the child, one at a time (callers are serialised
    by a lock), and returns its result. A call that raised there, or that the child could
    not answer, runs again here (the functions are pure), so the caller gets the real
    outcome either way."""

    def __init__(self) -> None:
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.calls_here = 0  # calls that ran in this process because the child failed

    def __call__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not function.__module__.startswith(PURE_MODULES):
            raise ValueError(f"only the domain and the simulator run in the child: {function!r}")
        with self._lock:
            try:
                child = self._started()
                assert child.stdin is not None
                assert child.stdout is not None
                _write_message(child.stdin, (function, args, kwargs))
                ok, value = _read_message(child.stdout)
            except Exception as error:  # the pipe, the child or a pickle: not the function
                log.warning("the child process failed (%r); running here", error)
                self._stop_child()
                ok, value = False, None
        if ok:
            return value
        if value is not None:
            log.warning("%s raised in the child process: %s", function.__name__, value)
        # Here, the same pure call: the caller gets the real exception and its traceback.
        self.calls_here += 1
        return function(*args, **kwargs)

    def _started(self) -> subprocess.Popen[bytes]:
        if self._child is not None and self._child.poll() is not None:
            self._stop_child()  # it died between calls: its pipes closed, a new one started
        if self._child is None:
            # The package's folder on the child's path, wherever the server was started from.
            path = os.pathsep.join(filter(None, (PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))
            self._child = subprocess.Popen(  # noqa: S603 - this interpreter, this module
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": path},
            )
        return self._child

    def stop(self) -> None:
        with self._lock:
            self._stop_child()

    def _stop_child(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        try:
            if child.stdin is not None:
                child.stdin.close()  # the child reads EOF and exits
            child.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            child.kill()
            child.wait()
        finally:
            if child.stdout is not None:
                child.stdout.close()


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """The child's loop: a call in, its outcome out, until the server closes the pipe."""
    while True:
        try:
            function, args, kwargs = _read_message(requests)
        except EOFError:
            return
        try:
            outcome: tuple[bool, Any] = (True, function(*args, **kwargs))
        except Exception as error:  # told as text: the server runs the call again
            outcome = (False, repr(error))
        _write_message(replies, outcome)


if __name__ == "__main__":
    # Ctrl+C in the server's terminal reaches the whole process group: the server stops,
    # closes the pipe, and that ends the child (no traceback of its own).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(sys.stdin.buffer, sys.stdout.buffer)
