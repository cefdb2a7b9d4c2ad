"""Broadcasts to many screens: each message is framed once and, under gevent, written to
every WebSocket without a trip through each client's queue and writer.

What a broadcast to 1,000 screens cost before (profiles in docs/PERFORMANCE.md): for every
screen, python-socketio put the packet on the client's engine.io queue, that client's writer
greenlet woke, polled the queue (with a timer), and simple-websocket ran wsproto's frame
serializer and one `send` per message. Here:

- Under gevent every WebSocket is served by `websocket.GeventWebSocket`: a message is
  framed once for every connection (`FrameCache`) and the frames a connection is given in one
  go — a call's `call`, `counter` and `evaluate` — leave in one `send` (`CoalescedWrites`).
  It negotiates no extension; `decline_compression` also takes the browsers' offer out for
  the debugging server's transport (threading), so every screen speaks uncompressed.
- `DirectFanout`, the Socket.IO client manager: a broadcast appends the frame to each
  WebSocket's pending writes directly, when nothing older is waiting in that client's
  queue (so a client's messages keep their order); otherwise, and for every other client,
  it takes the library's path.
- A connecting client's broadcasts wait in `DirectFanout` until its snapshot has gone
  (`hold`/`release`, used by realtime/namespaces.py).

The transport and the manager lean on engine.io and python-socketio internals:
`library_problems` lists what is not where they expect, start-up then keeps the library's
path, and tests/integration/test_fanout.py fails on the list.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import engineio.socket
import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from queue_server.realtime.websocket import GeventWebSocket, ping_on_timers

log = logging.getLogger(__name__)


class DirectFanout(socketio.Manager):
    """The client manager: broadcasts as described in the module's docstring. Combined with
    a message-queue manager (`fanout_manager`), it delivers what arrives from the queue.

    It also keeps a connecting client's broadcasts back until its snapshot has gone
    (`hold` … `release`): a namespace joins the client to its rooms first, then reads the
    snapshot (a database read, which yields under gevent), so whatever is broadcast
    meanwhile is neither lost nor delivered before the snapshot."""

    websockets: dict[str, Any]  # engine.io sid -> its GeventWebSocket, this process
    direct_frames = 0  # broadcast frames written directly / handed to a client's queue
    queued_frames = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.websockets = {}
        # sid -> the broadcasts (engine.io sid, packet, text) waiting for its snapshot
        self.held: dict[str, list[tuple[str, Any, str]]] = {}
        self.lock = threading.RLock()

    def publishing_together(self) -> AbstractContextManager[None]:
        """A block whose emits reach the other processes together (`WatchedQueue`); with
        no message queue there is nothing to send on."""
        return nullcontext()

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
    already — instead of two failed tries and two error lines per message.

    `publishing_together()` gathers what one greenlet (or thread) publishes meanwhile and
    sends it when the block ends, in order: a commit's messages (a call is a `call`, two
    `counter`s, two `ticket`s…) cross to the other processes together. On this base class
    they still go one by one; `WatchedRedis` sends them in one round trip."""

    queue_down = False
    _local: threading.local | None = None

    @property
    def _gathering(self) -> threading.local:
        # Made at first use, after gevent patched threading: one list per greenlet.
        if self._local is None:
            self._local = threading.local()
        return self._local

    @contextmanager
    def publishing_together(self) -> Iterator[None]:
        gathered: list[Any] = []
        self._gathering.messages = gathered
        try:
            yield
        finally:
            self._gathering.messages = None
            if gathered and not self.queue_down:
                self._publish_all(gathered)

    def _publish(self, data: Any) -> Any:
        gathered = getattr(self._gathering, "messages", None)
        if gathered is not None:
            gathered.append(data)
            return 1
        if self.queue_down:
            return None
        return super()._publish(data)  # type: ignore[misc]

    def _publish_all(self, messages: list[Any]) -> None:
        # Through `_publish` (nothing is gathering now): a give-up marks the queue down and
        # the rest are not tried.
        for data in messages:
            self._publish(data)


class WatchedRedis(WatchedQueue):
    """The Redis listener, retried every LISTEN_RETRY_S while Redis is away (the library
    backs off to 60 s, so a process could stay deaf for a minute after Redis returned), and
    quietly: the watch logs the outage once.

    A publish the library gave up on (it returns None, not the count of subscribers) marks
    the queue down at once: the next messages are not tried (two tries, two error lines and
    up to a connect timeout each) until the watch's next ping, which then says the outage
    or, finding Redis back, resends the snapshots the lost message was part of."""

    LISTEN_RETRY_S = 1.0
    pipelined = True  # False when `pipeline_problems` found the library moved (fanout_manager)
    # python-socketio's RedisManager's own, which this mixin comes before in the MRO (the
    # shape `pipeline_problems` checks).
    connected: bool
    redis: Any
    channel: str
    json: Any

    def _publish(self, data: Any) -> Any:
        published = super()._publish(data)
        if published is None:
            self.queue_down = True
        return published

    def _publish_all(self, messages: list[Any]) -> None:
        """The messages in one pipeline: one round trip to Redis instead of one a message,
        each still its own PUBLISH, in order, on one connection. Two tries, as the
        library's `_publish`; after the second the queue is marked down. If the library's
        attributes moved (not `pipelined`), one by one through its own `_publish`."""
        if not self.pipelined:
            super()._publish_all(messages)
            return
        for attempt in range(2):
            try:
                if not self.connected:
                    self._redis_connect()  # type: ignore[attr-defined]
                pipeline = self.redis.pipeline(transaction=False)
                for data in messages:
                    pipeline.publish(self.channel, self.json.dumps(data))
                pipeline.execute()
                return
            except Exception as error:  # noqa: BLE001 - as the library's own publish
                # The library's words, so one grep finds every failed publish.
                outcome = "retrying" if attempt == 0 else "giving up"
                log.error(
                    "Cannot publish to redis... %s (%d messages: %s)", outcome, len(messages), error
                )
                self.connected = False
        self.queue_down = True

    def _redis_listen_with_retries(self) -> Any:
        while True:
            try:
                self._redis_connect()  # type: ignore[attr-defined]
                self.pubsub.subscribe(self.channel)  # type: ignore[attr-defined]
                yield from self.pubsub.listen()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - any failure: wait and subscribe again
                time.sleep(self.LISTEN_RETRY_S)


def pipeline_problems(manager: Any) -> list[str]:
    """What `WatchedRedis._publish_all` needs of python-socketio's RedisManager that is not
    there (empty: all is). Not public API: a library upgrade that moves it sends each
    message on its own again (`fanout_manager` checks once), start-up logs the list, and
    tests/integration/test_fanout.py fails on it."""
    problems = [
        f"RedisManager has no {name!r}"
        for name in ("connected", "redis", "channel", "json", "_redis_connect")
        if not hasattr(manager, name)
    ]
    if not callable(getattr(getattr(manager, "json", None), "dumps", None)):
        problems.append("RedisManager.json has no dumps()")
    return problems


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
    if watched is WatchedRedis and (problems := pipeline_problems(manager)):
        log.error("a commit's messages go to Redis one by one: %s", "; ".join(problems))
        manager.pipelined = False  # type: ignore[attr-defined]
    return manager


def decline_compression(wsgi_app: Any) -> Any:
    """WSGI middleware: a request's `Sec-WebSocket-Extensions` offer is taken out before the
    WebSocket handshake sees it, so the server answers with no extension (RFC 7692 §5: a
    server declines by not listing it) and browsers, which all offer permessage-deflate, speak
    uncompressed. Yihao's own transport (websocket.py, gevent) negotiates no extension anyway;
    this is for engine.io's transport, which would compress each connection with its own
    context: under the debugging server (threading), or behind another WSGI server."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi_app(environ, start_response)

    return app


def library_problems(engineio_server: Any) -> list[str]:
    """What `use_shared_frames` needs of engine.io's and python-socketio's internals that is
    not where it expects (empty: all is). They are not public API, so a library upgrade may
    move them: start-up then logs each problem and leaves engine.io's own transport and
    broadcasts in place, and tests/integration/test_fanout.py fails on the list."""
    problems: list[str] = []
    transports = getattr(engineio_server, "_async", None)
    if not (isinstance(transports, dict) and "websocket" in transports):
        problems.append("engineio Server._async has no 'websocket' transport")
    expected = {
        socketio.Server._send_eio_packet: ["self", "eio_sid", "eio_pkt"],
        socketio.Manager.get_participants: ["self", "namespace", "room"],
        engineio.socket.Socket._websocket_handler: ["self", "ws"],
    }
    for function, parameters in expected.items():
        found = list(inspect.signature(function).parameters)
        if found != parameters:
            problems.append(f"{function.__qualname__}{tuple(found)}, expected {tuple(parameters)}")
    upgrade = inspect.getsource(engineio.socket.Socket._upgrade_websocket)
    if "_async['websocket'](" not in upgrade or "self._websocket_handler" not in upgrade:
        problems.append("engineio Socket no longer builds _async['websocket'] with its handler")
    pinging = inspect.getsource(engineio.socket.Socket.schedule_ping)
    ping = inspect.getsource(engineio.socket.Socket._send_ping)
    if "start_background_task(self._send_ping)" not in pinging or not all(
        step in ping
        for step in (
            "self.server.sleep(self.server.ping_interval)",
            "if not self.closing and not self.closed:",
            "self.last_ping = time.time()",
            "self.send(packet.Packet(packet.PING))",
        )
    ):
        problems.append("engineio Socket pings otherwise than websocket.send_ping expects")
    handler = inspect.getsource(engineio.socket.Socket._websocket_handler)
    for use in ("ws.wait()", "ws.send(", "ws.close()"):
        if use not in handler:
            problems.append(f"engineio's websocket handler no longer calls {use}")
    probe = engineio.socket.Socket(engineio_server, "shape-check")
    for name in ("sid", "closed", "upgrading", "upgraded"):
        if not hasattr(probe, name):
            problems.append(f"engineio Socket has no attribute {name!r}")
    if not callable(getattr(getattr(probe, "queue", None), "qsize", None)):
        problems.append("engineio Socket.queue has no qsize()")
    return problems


def use_shared_frames(engineio_server: Any, manager: DirectFanout) -> None:
    """Under gevent: serve WebSockets with `websocket.GeventWebSocket` (shared frames,
    coalesced writes, no reader greenlet), ping clients from hub timers
    (`websocket.ping_on_timers`) and let `manager` broadcast straight to them, while
    the libraries' internals are where `library_problems` expects them. Threading (the
    debugging server) keeps engine.io's own transport."""
    if engineio_server.async_mode != "gevent":
        return
    problems = library_problems(engineio_server)
    if problems:
        log.error(
            "broadcasts take the library's path: its internals moved (%s)", "; ".join(problems)
        )
        return
    transport = type("HallWebSocket", (GeventWebSocket,), {"registry": manager.websockets})
    engineio_server._async = {**engineio_server._async, "websocket": transport}
    ping_on_timers(engineio_server)
