"""Broadcasts to many screens: each message is framed once and, under gevent, written to
every WebSocket without a trip through each client's queue and writer.

What a broadcast to 1,000 screens cost before (profiles in docs/PERFORMANCE.md): for every
screen, python-socketio put the packet on the client's engine.io queue, that client's writer
greenlet woke, polled the queue (with a timer), and simple-websocket ran wsproto's frame
serializer and one `send` per message. Here:

- A server's frames are never masked (RFC 6455 §5.1), so without a negotiated extension a
  text message is the same bytes on every connection: `FrameCache` builds it once.
  Browsers offer permessage-deflate; `decline_compression` answers every handshake without
  it, so browsers are plain connections too (a connection that did negotiate it, behind
  some other front, would compress per connection and keep the library's path).
- `CoalescedWrites` (gevent): the frames a connection is given in one go — a call's `call`,
  `counter` and `evaluate` — leave in one `send`, made by the hub once the sender yields.
- `DirectFanout`, the Socket.IO client manager: a broadcast appends the frame to each
  plain WebSocket's pending writes directly, when nothing older is waiting in that client's
  queue (so a client's messages keep their order); otherwise, and for every other client,
  it takes the library's path.
- A connecting client's broadcasts wait in `DirectFanout` until its snapshot has gone
  (`hold`/`release`, used by realtime/namespaces.py).

The transport and the manager lean on engine.io, python-socketio and simple-websocket
internals: `library_problems` lists what is not where they expect, start-up then keeps the
library's path, and tests/integration/test_fanout.py fails on the list.
"""

from __future__ import annotations

import inspect
import logging
import struct
import threading
import time
from typing import Any

import engineio.socket
import gevent
import simple_websocket.ws
import socketio
from engineio import packet as eio_packet
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from socketio import packet as sio_packet

FIN_TEXT = 0x81
log = logging.getLogger(__name__)


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
        """Send what is pending now, from the calling greenlet (before a close frame, or a
        frame that takes the library's path)."""
        while self.draining:
            gevent.sleep(0.001)
        if self.pending and self.error is None:
            data = b"".join(self.pending)
            self.pending.clear()
            try:
                self.sock.sendall(data)
            except OSError as error:
                self.error = error


class DirectFanout(socketio.Manager):
    """The client manager: broadcasts as described in the module's docstring. Combined with
    a message-queue manager (`fanout_manager`), it delivers what arrives from the queue.

    It also keeps a connecting client's broadcasts back until its snapshot has gone
    (`hold` … `release`): a namespace joins the client to its rooms first, then reads the
    snapshot (a database read, which yields under gevent), so whatever is broadcast
    meanwhile is neither lost nor delivered before the snapshot."""

    websockets: dict[str, Any]  # engine.io sid -> its SharedFrames transport, this process
    direct_frames = 0  # broadcast frames written directly / handed to a client's queue
    queued_frames = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.websockets = {}
        # sid -> the broadcasts (engine.io sid, packet, text) waiting for its snapshot
        self.held: dict[str, list[tuple[str, Any, str]]] = {}
        self.lock = threading.RLock()

    def hold(self, sid: str) -> None:
        """Keep broadcasts to `sid` back until `release` (or `forget_hold`)."""
        with self.lock:
            self.held.setdefault(sid, [])

    def forget_hold(self, sid: str) -> None:
        """The connection was refused: what was kept back for it is dropped."""
        with self.lock:
            self.held.pop(sid, None)

    def release(self, sid: str, namespace: str, first: list[tuple[str, Any]]) -> None:
        """Send `first` (event, payload) to `sid` (in this process only), then what was kept
        back for it, in order; later broadcasts wait for the lock, so nothing overtakes."""
        with self.lock:
            waiting = self.held.pop(sid, [])
            for event, payload in first:
                DirectFanout.emit(self, event, payload, namespace, to=sid)
            for eio_sid, message, text in waiting:
                self._send(eio_sid, message, text)

    def emit(  # type: ignore[override]
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        room = to or room
        if callback or namespace not in self.rooms:
            return super().emit(  # type: ignore[no-any-return]
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
        if isinstance(data, tuple):
            arguments = list(data)
        elif data is not None:
            arguments = [data]
        else:
            arguments = []
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event] + arguments
        ).encode()
        if isinstance(encoded, list):  # binary attachments (Yihao sends none): the library's
            return super().emit(  # type: ignore[no-any-return]
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
        message = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        text = message.encode()
        skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        with self.lock:
            for sid, eio_sid in self.get_participants(namespace, room):
                if sid in skipped:
                    continue
                waiting = self.held.get(sid)
                if waiting is not None:
                    waiting.append((eio_sid, message, text))
                else:
                    self._send(eio_sid, message, text)
        return None

    def _send(self, eio_sid: str, message: Any, text: str) -> None:
        websocket = self.websockets.get(eio_sid)
        if websocket is not None and websocket.deliver(text):
            self.direct_frames += 1
        else:
            self.server._send_eio_packet(eio_sid, message)
            self.queued_frames += 1


class WatchedQueue:
    """Mixed into the message-queue manager: while the queue is known to be down
    (message_queue.py `MessageQueueWatch`) nothing is published — local clients were served
    already — instead of two failed tries and two error lines per message."""

    queue_down = False

    def _publish(self, data: Any) -> Any:
        if self.queue_down:
            return None
        return super()._publish(data)  # type: ignore[misc]


class WatchedRedis(WatchedQueue):
    """The Redis listener, retried every LISTEN_RETRY_S while Redis is away (the library
    backs off to 60 s, so a process could stay deaf for a minute after Redis returned), and
    quietly: the watch logs the outage once.

    A publish the library gave up on (it returns None, not the count of subscribers) marks
    the queue down at once: the next messages are not tried (two tries, two error lines and
    up to a connect timeout each) until the watch's next ping, which then says the outage
    or, finding Redis back, resends the snapshots the lost message was part of."""

    LISTEN_RETRY_S = 1.0

    def _publish(self, data: Any) -> Any:
        published = super()._publish(data)
        if published is None:
            self.queue_down = True
        return published

    def _redis_listen_with_retries(self) -> Any:
        while True:
            try:
                self._redis_connect()  # type: ignore[attr-defined]
                self.pubsub.subscribe(self.channel)  # type: ignore[attr-defined]
                yield from self.pubsub.listen()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - any failure: wait and subscribe again
                time.sleep(self.LISTEN_RETRY_S)


def fanout_manager(url: str | None, channel: str) -> DirectFanout:
    """The client manager Flask-SocketIO would build for `url`, with `DirectFanout` as its
    local delivery."""
    if not url:
        return DirectFanout()
    options: dict[str, Any] = {}
    watched: type = WatchedQueue
    if url.startswith(("redis://", "rediss://")):
        queue_class: type = socketio.RedisManager
        # A Redis that does not answer must not hold a publishing request for long.
        options = {"redis_options": {"socket_connect_timeout": 1}}
        watched = WatchedRedis
    elif url.startswith("kafka://"):
        queue_class = socketio.KafkaManager
    elif url.startswith("zmq"):
        queue_class = socketio.ZmqManager
    else:
        queue_class = socketio.KombuManager
    # MRO: Queue manager -> PubSubManager -> DirectFanout -> Manager: what arrives from the
    # queue is delivered by DirectFanout.emit.
    combined = type(f"Direct{queue_class.__name__}", (watched, queue_class, DirectFanout), {})
    manager: DirectFanout = combined(url, channel=channel, write_only=False, **options)
    return manager


def decline_compression(wsgi_app: Any) -> Any:
    """WSGI middleware: a request's `Sec-WebSocket-Extensions` offer is taken out before the
    WebSocket handshake sees it, so the server answers with no extension (RFC 7692 §5: a
    server declines by not listing it) and browsers, which all offer permessage-deflate, speak
    uncompressed. Then every screen and phone is a plain connection: one shared frame per
    broadcast, written straight to its socket, and no compression context per connection
    (docs/PERFORMANCE.md, "Browsers on the direct path")."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi_app(environ, start_response)

    return app


def library_problems(engineio_server: Any) -> list[str]:
    """What `use_shared_frames` needs of engine.io, python-socketio and simple-websocket's
    internals that is not where it expects (empty: all is). They are not public API, so a
    library upgrade may move them: start-up then logs each problem and leaves broadcasts on
    the library's own path, and tests/integration/test_fanout.py fails on the list."""
    problems: list[str] = []
    transports = getattr(engineio_server, "_async", None)
    transport = transports.get("websocket") if isinstance(transports, dict) else None
    if not (isinstance(transport, type) and issubclass(transport, SimpleWebSocketWSGI)):
        problems.append("engineio Server._async['websocket'] is not a SimpleWebSocketWSGI")
    expected = {
        SimpleWebSocketWSGI.__init__: ["self", "handler", "server", "kwargs"],
        SimpleWebSocketWSGI.__call__: ["self", "environ", "start_response"],
        SimpleWebSocketWSGI.send: ["self", "message"],
        SimpleWebSocketWSGI.close: ["self"],
        socketio.Server._send_eio_packet: ["self", "eio_sid", "eio_pkt"],
        socketio.Manager.get_participants: ["self", "namespace", "room"],
        engineio.socket.Socket._websocket_handler: ["self", "ws"],
    }
    for function, parameters in expected.items():
        found = list(inspect.signature(function).parameters)
        if found != parameters:
            problems.append(f"{function.__qualname__}{tuple(found)}, expected {tuple(parameters)}")
    if "self.app(self)" not in inspect.getsource(SimpleWebSocketWSGI.__call__):
        problems.append("SimpleWebSocketWSGI.__call__ no longer calls self.app(self)")
    if "_websocket_handler" not in inspect.getsource(engineio.socket.Socket._upgrade_websocket):
        problems.append("engineio Socket no longer hands _websocket_handler to its transport")
    probe = engineio.socket.Socket(engineio_server, "shape-check")
    for name in ("sid", "closed", "upgrading", "upgraded"):
        if not hasattr(probe, name):
            problems.append(f"engineio Socket has no attribute {name!r}")
    if not callable(getattr(getattr(probe, "queue", None), "qsize", None)):
        problems.append("engineio Socket.queue has no qsize()")
    for name in ("sock", "connected"):
        if f"self.{name} =" not in inspect.getsource(simple_websocket.ws.Base.__init__):
            problems.append(f"simple_websocket Base sets no {name!r}")
    return problems


def use_shared_frames(engineio_server: Any, manager: DirectFanout) -> None:
    """Have `engineio_server` send plain text frames from the shared cache and, under
    gevent, coalesce writes and accept direct broadcasts from `manager`. Only for the
    simple-websocket transports (threading, and gevent without gevent-websocket), and only
    while the libraries' internals are where `library_problems` expects them."""
    problems = library_problems(engineio_server)
    if problems:
        log.error(
            "broadcasts take the library's path: its internals moved (%s)", "; ".join(problems)
        )
        return
    transport = engineio_server._async["websocket"]
    coalesce = engineio_server.async_mode == "gevent"
    frames = FrameCache()
    websockets: dict[str, Any] = manager.websockets if coalesce else {}

    class SharedFrames(transport):  # type: ignore[misc, valid-type]
        writes: CoalescedWrites | None = None
        engine_socket: Any = None

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            offered = environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS", "")
            self.plain = "permessage-deflate" not in offered.lower()
            # engine.io hands its Socket's bound handler to the transport.
            self.engine_socket = getattr(self.app, "__self__", None)
            sid = str(getattr(self.engine_socket, "sid", ""))
            direct = coalesce and self.plain and bool(sid)
            if direct:
                websockets[sid] = self
            try:
                return super().__call__(environ, start_response)
            finally:
                if direct:
                    websockets.pop(sid, None)

        def _writes(self) -> CoalescedWrites:
            if self.writes is None:
                self.writes = CoalescedWrites(self.ws.sock)
            return self.writes

        def deliver(self, text: str) -> bool:
            """Send a broadcast frame now if nothing older waits in this client's queue;
            False: the caller queues it the library's way."""
            engine = self.engine_socket
            if (
                engine is None
                or engine.closed
                or engine.upgrading
                or not engine.upgraded
                or engine.queue.qsize()
                or getattr(self, "ws", None) is None
                or not self.ws.connected
            ):
                return False
            try:
                self._writes().send(frames.frame(text))
            except OSError:
                return False
            return True

        def send(self, message: Any) -> Any:
            if not (self.plain and isinstance(message, str)):
                if self.writes is not None:
                    self.writes.finish()
                return super().send(message)
            if not self.ws.connected:
                raise OSError("websocket closed")
            if coalesce:
                self._writes().send(frames.frame(message))
            else:
                self.ws.sock.sendall(frames.frame(message))  # an OSError ends the writer
            return None

        def close(self) -> None:
            if self.writes is not None:
                self.writes.finish()
            super().close()

    engineio_server._async = {**engineio_server._async, "websocket": SharedFrames}
