"""The HTTP servers run.py starts, with time limits, so slow or silent clients cannot hold
connections (threads, under threading) for ever:

- **Headers**: the request line and headers must arrive within `header_timeout_s` of the
  connection being ready for a request (a new connection, or a kept-alive one after its
  last answer): a deadline for the whole, not per read, so a client dribbling a byte a second
  (slowloris) is cut off too. Past it the connection is shut down.
- **Bodies**: each read of a body waits at most `body_timeout_s` (bodies are at most 64 KB).
- **WebSockets**: a Socket.IO client must answer the server's ping (every `ping_interval_s`)
  within `ping_timeout_s`, or engine.io closes it; and the connection's socket gives up a read
  after `ping_interval_s + ping_timeout_s + 5` s of silence, so a client that neither answers
  nor closes is dropped even where the close frame cannot be delivered.

docs/SECURITY.md gives the bounds and how they were measured (bench/slow_clients.py)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    header_timeout_s: float
    body_timeout_s: float
    websocket_idle_s: float

    @classmethod
    def of(cls, settings: Any) -> Limits:
        return cls(
            settings.header_timeout_s,
            settings.body_timeout_s,
            settings.ping_interval_s + settings.ping_timeout_s + 5,
        )


class Deadlines:
    """Connections that must finish their headers by a time; a watcher (a thread, or a
    greenlet once gevent patched threading) shuts down those that did not."""

    def __init__(self, tick_s: float = 0.5) -> None:
        self.tick_s = tick_s
        self._due: dict[socket.socket, float] = {}
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def set(self, connection: socket.socket, seconds: float) -> None:
        with self._lock:
            self._due[connection] = time.monotonic() + seconds
            if self._watcher is None:
                self._watcher = threading.Thread(
                    target=self._watch, name="yihao-header-deadlines", daemon=True
                )
                self._watcher.start()

    def clear(self, connection: socket.socket) -> None:
        with self._lock:
            self._due.pop(connection, None)

    def _watch(self) -> None:
        while True:
            time.sleep(self.tick_s)
            now = time.monotonic()
            with self._lock:
                late = [connection for connection, due in self._due.items() if due <= now]
                for connection in late:
                    del self._due[connection]
            for connection in late:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _is_websocket(headers: Any) -> bool:
    return "websocket" in str(headers.get("Upgrade", "")).lower()


def werkzeug_handler(limits: Limits) -> type:
    """Werkzeug's request handler (threading mode) with the limits above."""
    from werkzeug.serving import WSGIRequestHandler

    deadlines = Deadlines()

    class LimitedRequestHandler(WSGIRequestHandler):
        def handle_one_request(self) -> None:
            deadlines.set(self.connection, limits.header_timeout_s)
            try:
                super().handle_one_request()
            finally:
                deadlines.clear(self.connection)

        def parse_request(self) -> bool:
            parsed = super().parse_request()
            deadlines.clear(self.connection)
            if parsed:
                websocket = _is_websocket(self.headers)
                self.connection.settimeout(
                    limits.websocket_idle_s if websocket else limits.body_timeout_s
                )
            return parsed

    return LimitedRequestHandler


def serve_gevent(app: Any, host: str, port: int, limits: Limits) -> None:
    """gevent's WSGI server, as Flask-SocketIO would start it, with the limits above and
    TCP_NODELAY on every connection: it writes headers and body in two sends, and without it
    Nagle's algorithm holds the body for the client's delayed ACK (≈40 ms per kept-alive
    request)."""
    import gevent
    from gevent import pywsgi

    from queue_server.realtime.websocket import SOCKET_KEY

    class LimitedHandler(pywsgi.WSGIHandler):  # type: ignore[misc]
        header_timer: Any = None
        websocket = False  # the current request asks for a WebSocket

        def handle(self) -> None:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle()

        def handle_one_request(self) -> Any:
            self.header_timer = timer = gevent.Timeout.start_new(limits.header_timeout_s)
            try:
                return super().handle_one_request()
            except gevent.Timeout as timeout:
                if timeout is not timer:
                    raise
                self.close_connection = True
                return None  # handle() closes the connection
            finally:
                timer.close()

        def read_request(self, raw_requestline: str) -> Any:
            result = super().read_request(raw_requestline)
            self.header_timer.close()
            self.websocket = _is_websocket(self.headers)
            idle_s = limits.websocket_idle_s if self.websocket else limits.body_timeout_s
            self.socket.settimeout(idle_s)
            return result

        def get_environ(self) -> dict[str, Any]:
            environ: dict[str, Any] = super().get_environ()
            if self.websocket:
                # The WebSocket transport reads and writes the connection itself
                # (realtime/websocket.py), after answering 101 through start_response.
                environ[SOCKET_KEY] = self.socket
            return environ

        def finalize_headers(self) -> None:
            super().finalize_headers()
            if self.connection_upgraded:
                # A 101 is going out: from here the WebSocket transport reads the socket
                # itself (a client sends nothing before the 101, RFC 6455 §4.1), so the
                # request's 8 KB read buffer is let go; pywsgi ends the connection's request
                # loop on a closed reader.
                self.rfile.close()

    pywsgi.WSGIServer((host, port), app, handler_class=LimitedHandler, log=None).serve_forever()
