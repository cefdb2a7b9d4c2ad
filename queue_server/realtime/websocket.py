"""engine.io's WebSocket transport under gevent, read in the connection's own greenlet.

engine.io's gevent driver uses simple-websocket, which for every connection duplicates the
socket, keeps a reader greenlet, an Event and wsproto's HTTP handshake objects (h11) for the
connection's whole life. Idle, that was about 12 KB of a screen's 73 KB (tracemalloc, 1,000
idle screens; docs/PERFORMANCE.md, "Memory per connection"). Here the greenlet that serves
the upgrade request reads the frames itself (wsproto's frame-level `Connection`, no
handshake object kept), the 101 answer goes through WSGI's own `start_response`, and the
socket comes from the server (`serving.py` puts it in the environ under `SOCKET_KEY`).

Writes: every text message leaves as a `FrameCache` frame (a server's frames are unmasked
and this transport negotiates no extension, so a message is the same bytes on every
connection) through `CoalescedWrites`; the broadcasts of `fanout.DirectFanout` arrive the
same way through `deliver`.

What engine.io asks of a transport (`Server._async['websocket']`): built as
`cls(handler, server)`, called as the WSGI app of the upgrade request, and from the handler
`wait()` (the next message, None once closed), `send(text)` and `close()`.
"""

from __future__ import annotations

import base64
import binascii
import socket
import struct
import time
from typing import Any

import engineio.socket
import gevent
from engineio import packet as eio_packet
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Message, Ping, TextMessage
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import LocalProtocolError, generate_accept_token

SOCKET_KEY = "yihao.socket"  # the connection's socket, put in the environ by serving.py
RECEIVE_BYTES = 4096
FIN_TEXT = 0x81


class FrameCache:
    """Text frames of the last few messages: a broadcast hands the same str object to every
    recipient, so after the first one its frame is a dict probe."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.frames: dict[str, bytes] = {}

    def frame(self, text: str) -> bytes:
        """One final, unmasked text frame carrying `text` (RFC 6455 §5.2)."""
        frame = self.frames.get(text)
        if frame is None:
            frame = text_frame(text)
            if len(self.frames) >= self.size:
                self.frames.clear()
            self.frames[text] = frame
        return frame


def text_frame(text: str) -> bytes:
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", FIN_TEXT, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", FIN_TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", FIN_TEXT, 127, size)
    return header + payload


class CoalescedWrites:
    """Under gevent: frames handed over before the sender yields leave in one `send`, made
    by the hub. A send the kernel cannot take at once is finished by a greenlet, and later
    frames wait behind it, so frames never interleave."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.raw = getattr(sock, "_sock", sock)  # gevent's socket wraps a non-blocking one
        self.loop = gevent.get_hub().loop
        self.pending: list[bytes] = []
        self.scheduled = False
        self.draining = False
        self.error: OSError | None = None

    def send(self, frame: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.pending.append(frame)
        if not (self.scheduled or self.draining):
            self.scheduled = True
            self.loop.run_callback(self._flush)

    def _flush(self) -> None:
        """Runs in the hub, so it must not block."""
        self.scheduled = False
        if self.draining or not self.pending:
            return
        data = b"".join(self.pending)
        self.pending.clear()
        try:
            sent = self.raw.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as error:
            self.error = error
            return
        if sent < len(data):
            self.draining = True
            gevent.spawn(self._drain, data[sent:])

    def _drain(self, rest: bytes) -> None:
        try:
            while rest:
                self.sock.sendall(rest)
                rest = b"".join(self.pending)
                self.pending.clear()
        except OSError as error:
            self.error = error
        finally:
            self.draining = False

    def finish(self) -> None:
        """Send what is pending now, from the calling greenlet (before a close frame)."""
        while self.draining:
            gevent.sleep(0.001)
        if self.pending and self.error is None:
            data = b"".join(self.pending)
            self.pending.clear()
            try:
                self.sock.sendall(data)
            except OSError as error:
                self.error = error


def accept_token(environ: dict[str, Any]) -> str | None:
    """Sec-WebSocket-Accept for a valid version-13 handshake (RFC 6455 §4.2.1), else None."""
    key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "").strip()
    if environ.get("HTTP_SEC_WEBSOCKET_VERSION", "").strip() != "13":
        return None
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except (binascii.Error, ValueError):
        return None
    return generate_accept_token(key.encode("ascii")).decode("ascii")


class GeventWebSocket:
    """One WebSocket connection as engine.io's transport (the module's docstring).

    `frames` is shared by every connection; `registry`, when set, maps the engine.io sid of
    each open connection to it, for `fanout.DirectFanout`'s direct broadcasts."""

    frames = FrameCache()
    registry: dict[str, GeventWebSocket] | None = None

    def __init__(self, handler: Any, server: Any, **_: Any) -> None:
        self.app = handler
        self.server = server
        self.sock: Any = None
        self.connection: Connection | None = None
        self.writes: CoalescedWrites | None = None
        self.engine_socket: Any = None
        self.open = False
        self.parts: list[Any] = []
        self.size = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        sock = environ.get(SOCKET_KEY)
        if sock is None:  # another WSGI server than serving.py's: the library's transport
            return SimpleWebSocketWSGI(self.app, self.server)(environ, start_response)
        accept = accept_token(environ)
        # engine.io hands the transport its Socket's bound handler.
        engine_socket = getattr(self.app, "__self__", None)
        if accept is None:
            if engine_socket is not None:  # gone at once, not at the ping timeout
                engine_socket.close(wait=False, abort=True)
            start_response(
                "400 Bad Request",
                [("Content-Type", "text/plain"), ("Sec-WebSocket-Version", "13")],
            )
            return [b"Bad WebSocket handshake"]
        answer = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", accept),
        ]
        write = start_response("101 Switching Protocols", answer)
        write(b"")  # the answer leaves now; frames follow on the same socket
        self.sock = sock
        self.connection = Connection(ConnectionType.SERVER)
        self.writes = CoalescedWrites(sock)
        self.open = True
        sid = str(getattr(engine_socket, "sid", ""))
        self.engine_socket = engine_socket
        if self.registry is not None and sid:
            self.registry[sid] = self
        try:
            return self.app(self)
        finally:
            self.open = False
            if self.registry is not None and sid:
                self.registry.pop(sid, None)

    # -- what engine.io calls -----------------------------------------------------------
    def wait(self) -> str | bytes | None:
        """The next whole message; None once the connection is closed, by either side."""
        assert self.connection is not None
        while self.open:
            for event in self.connection.events():
                if isinstance(event, (TextMessage, BytesMessage)):
                    self.parts.append(event.data)
                    self.size += len(event.data)
                    if self.size > self.server.max_http_buffer_size:
                        self._close(CloseReason.MESSAGE_TOO_BIG, "message too big")
                        return None
                    if event.message_finished:
                        return self._message(isinstance(event, TextMessage))
                elif isinstance(event, Ping):
                    self._control(self.connection.send(event.response()))
                elif isinstance(event, CloseConnection):
                    # The peer's close (or wsproto's for a frame it could not parse).
                    self._close(event.code, event.reason or "")
                    return None
            try:
                data = self.sock.recv(RECEIVE_BYTES)
            except OSError:  # reset, or silent past the idle timeout (serving.py)
                data = b""
            if not data:
                self.open = False
                return None
            try:
                self.connection.receive_data(data)
            except LocalProtocolError:
                self.open = False
                return None
        return None

    def send(self, message: Any) -> None:
        if not self.open or self.writes is None:
            raise OSError("websocket closed")
        if isinstance(message, str):
            self.writes.send(self.frames.frame(message))
        else:
            assert self.connection is not None
            self.writes.send(self.connection.send(Message(data=bytes(message))))

    def close(self) -> None:
        if self.open:
            self._close(CloseReason.NORMAL_CLOSURE, "")

    # -- direct broadcasts (fanout.DirectFanout) --------------------------------------------
    def deliver(self, text: str) -> bool:
        """Send a broadcast frame now if nothing older waits in this client's engine.io
        queue; False: the caller queues it the library's way."""
        engine = self.engine_socket
        if (
            not self.open
            or self.writes is None
            or engine is None
            or engine.closed
            or engine.upgrading
            or not engine.upgraded
            or engine.queue.qsize()
        ):
            return False
        try:
            self.writes.send(self.frames.frame(text))
        except OSError:
            return False
        return True

    # -- inside ---------------------------------------------------------------------------
    def _message(self, text: bool) -> str | bytes:
        parts, self.parts, self.size = self.parts, [], 0
        if text:
            return "".join(parts)
        return b"".join(parts)

    def _control(self, frame: bytes) -> None:
        if self.writes is not None:
            try:
                self.writes.send(frame)
            except OSError:
                self.open = False

    def _close(self, code: int, reason: str) -> None:
        """Answer or start the closing handshake, then end the connection: the socket is
        shut down, so the greenlet reading it returns at once."""
        self.open = False
        assert self.connection is not None
        assert self.writes is not None
        self.writes.finish()
        if self.connection.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            try:
                self.sock.sendall(self.connection.send(CloseConnection(code=code, reason=reason)))
            except (OSError, LocalProtocolError):
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def ping_on_timers(engineio_server: Any) -> None:
    """engine.io pings a client `ping_interval` after its last pong from a greenlet that
    sleeps meanwhile (`Socket.schedule_ping` → `_send_ping`): an idle connection's third
    greenlet, about 5 KB with its saved stack. Here the wait is a hub timer, and a greenlet
    lives only while the ping is sent. `fanout.library_problems` checks that engine.io still
    pings this way; `send_ping` does what `_send_ping` does after its sleep."""
    loop = gevent.get_hub().loop
    spawn_task = engineio_server.start_background_task

    def start_background_task(target: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(target, "__func__", None) is not engineio.socket.Socket._send_ping:
            return spawn_task(target, *args, **kwargs)
        timer = loop.timer(engineio_server.ping_interval)
        timer.start(gevent.spawn, send_ping, target.__self__)  # the loop holds it till then
        return timer

    engineio_server.start_background_task = start_background_task


def send_ping(engine_socket: Any) -> None:
    if not engine_socket.closing and not engine_socket.closed:
        engine_socket.last_ping = time.time()
        engine_socket.send(eio_packet.Packet(eio_packet.PING))
