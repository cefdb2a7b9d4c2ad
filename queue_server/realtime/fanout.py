"""Broadcasts to many screens: each message is framed once and, under gevent, written to
every WebSocket without a trip through each client's queue and writer.

What a broadcast to 1,000 screens cost before (profiles in docs/PERFORMANCE.md): for every
screen, python-socketio put the packet on the client's engine.io queue, that client's writer
greenlet woke, polled the queue (with a timer), and simple-websocket ran wsproto's frame
serializer and one `send` per message. Here:

- A server's frames are never masked (RFC 6455 §5.1), so without a negotiated extension a
  text message is the same bytes on every connection: `FrameCache` builds it once.
  Connections that negotiated permessage-deflate (browsers offer it) compress per
  connection and keep the library's path.
- `CoalescedWrites` (gevent): the frames a connection is given in one go — a call's `call`,
  `counter` and `evaluate` — leave in one `send`, made by the hub once the sender yields.
- `DirectFanout`, the Socket.IO client manager: a broadcast appends the frame to each
  plain WebSocket's pending writes directly, when nothing older is waiting in that client's
  queue (so a client's messages keep their order); otherwise, and for every other client,
  it takes the library's path.
"""

from __future__ import annotations

import struct
import time
from typing import Any

import gevent
import socketio
from engineio import packet as eio_packet
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from socketio import packet as sio_packet

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
    a message-queue manager (`fanout_manager`), it delivers what arrives from the queue."""

    websockets: dict[str, Any]  # engine.io sid -> its SharedFrames transport, this process
    direct_frames = 0  # broadcast frames written directly / handed to a client's queue
    queued_frames = 0

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
        websockets = getattr(self, "websockets", None)
        if callback or not websockets or namespace not in self.rooms:
            return super().emit(  # type: ignore[no-any-return]
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
        if isinstance(data, tuple):
            data = list(data)
        elif data is not None:
            data = [data]
        else:
            data = []
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event] + data
        ).encode()
        if isinstance(encoded, list):  # binary attachments: the library's path
            return super().emit(  # type: ignore[no-any-return]
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
        message = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        text = message.encode()
        skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        direct = queued = 0
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skipped:
                continue
            websocket = websockets.get(eio_sid)
            if websocket is not None and websocket.deliver(text):
                direct += 1
            else:
                self.server._send_eio_packet(eio_sid, message)
                queued += 1
        self.direct_frames += direct
        self.queued_frames += queued
        return None


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
    quietly: the watch logs the outage once."""

    LISTEN_RETRY_S = 1.0

    def _redis_listen_with_retries(self) -> Any:
        while True:
            try:
                self._redis_connect()  # type: ignore[attr-defined]
                self.pubsub.subscribe(self.channel)  # type: ignore[attr-defined]
                yield from self.pubsub.listen()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - any failure: wait and subscribe again
                time.sleep(self.LISTEN_RETRY_S)


def fanout_manager(url: str | None, channel: str) -> socketio.Manager:
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
    manager: socketio.Manager = combined(url, channel=channel, write_only=False, **options)
    return manager


def use_shared_frames(engineio_server: Any, manager: Any) -> None:
    """Have `engineio_server` send plain text frames from the shared cache and, under
    gevent, coalesce writes and accept direct broadcasts from `manager`. Only for the
    simple-websocket transports (threading, and gevent without gevent-websocket)."""
    transport = engineio_server._async.get("websocket")
    if not (isinstance(transport, type) and issubclass(transport, SimpleWebSocketWSGI)):
        return
    coalesce = engineio_server.async_mode == "gevent"
    frames = FrameCache()
    websockets: dict[str, Any] = {}
    if coalesce and isinstance(manager, DirectFanout):
        manager.websockets = websockets

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
