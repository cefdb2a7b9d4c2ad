"""Many lightweight Socket.IO clients: one asyncio protocol per connection, speaking just
enough WebSocket (RFC 6455, parsed by hand: the server's frames are unmasked, so a frame is a
2–10 byte header and its payload), Engine.IO 4 and Socket.IO 5: open, namespace connect with
auth, answer pings, record `call` events. A client costs a few microseconds per frame, so at
1,000 screens the server, not the clients, is what is measured.

With `deflate` a client offers permessage-deflate (RFC 7692) as every browser does
(`permessage-deflate; client_max_window_bits`); if the server accepts, compressed messages
(RSV1 set) are inflated with the context the server's answer implies. Each connection
records what the server negotiated, so a row can say which path its clients took.

Each client process is driven through a pipe by a `Fleet` in the parent."""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import re
import struct
import time
import zlib
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

NUMBER = re.compile(rb'"number":\s*"([^"]+)"')
CONNECTS_AT_ONCE = 25
OP_TEXT, OP_CLOSE, OP_PING = 0x1, 0x8, 0x9
RSV1 = 0x40
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"  # what Chromium sends
DEFLATE_TAIL = b"\x00\x00\xff\xff"  # RFC 7692 §7.2.2: removed by the sender, put back


class Stats:
    def __init__(self) -> None:
        self.records: list[tuple[str, float, str]] = []  # (number, when, the client's tag)
        self.events = 0  # other events received (e.g. a phone's `ticket` updates)
        self.drops = 0
        self.refused = 0
        self.compressed = 0  # connections on which the server accepted permessage-deflate


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A final, masked frame (clients must mask, RFC 6455 §5.3)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return header + mask + masked


class SocketClient(asyncio.Protocol):
    def __init__(
        self,
        url: str,
        namespace: str,
        auth: dict[str, Any] | None,
        stats: Stats,
        deflate: bool = False,
        query: str = "",
        tag: str = "",
    ) -> None:
        self.deflate, self.query, self.tag = deflate, query, tag
        self.inflater: Any = None  # set when the server accepted permessage-deflate
        self.fresh_context = False  # server_no_context_takeover: a new inflater per message
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.namespace, self.auth, self.stats = namespace, auth, stats
        self.call_prefix = f'42{namespace},["call"'.encode()
        self.event_prefix = f"42{namespace},".encode()
        self.connected: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments: bytearray | None = None
        self.pings = 0
        self.closing = False
        self.alive = False

    async def open(self, timeout: float = 60) -> bool:
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: self, self.host, self.port)
        return await asyncio.wait_for(self.connected, timeout)

    # -- asyncio.Protocol ------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        offer = f"Sec-WebSocket-Extensions: {DEFLATE_OFFER}\r\n" if self.deflate else ""
        transport.write(
            (
                f"GET /socket.io/?EIO=4&transport=websocket{self.query} HTTP/1.1\r\n"
                f"Host: {self.host}:{self.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
            ).encode()
        )

    def _negotiated(self, head: str) -> None:
        """What the server's 101 answer accepted (RFC 7692 §5)."""
        for line in head.split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions" and "permessage-deflate" in value:
                self.inflater = zlib.decompressobj(-15)
                self.fresh_context = "server_no_context_takeover" in value
                self.stats.compressed += 1

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self._end()
                return
            self._negotiated(bytes(buffer[:end]).decode("latin-1"))
            del buffer[: end + 4]
            self.upgraded = True
        position, size = 0, len(buffer)
        while size - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length, start = second & 0x7F, position + 2
            if length == 126:
                if size - position < 4:
                    break
                (length,) = struct.unpack_from("!H", buffer, start)
                start += 2
            elif length == 127:
                if size - position < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, start)
                start += 8
            if size - start < length:
                break
            position = start + length
            self._frame(first, buffer, start, position)
        del buffer[:position]

    def connection_lost(self, exc: Exception | None) -> None:
        self._end()

    # -- frames and packets ----------------------------------------------------------
    def _frame(self, first: int, buffer: bytearray, start: int, end: int) -> None:
        opcode, final = first & 0x0F, first & 0x80
        if first & RSV1 and self.inflater is not None and final and opcode == OP_TEXT:
            if self.fresh_context:
                self.inflater = zlib.decompressobj(-15)
            text = bytearray(self.inflater.decompress(bytes(buffer[start:end]) + DEFLATE_TAIL))
            self._message(text, 0, len(text))
        elif opcode == OP_TEXT and final:
            self._message(buffer, start, end)
        elif opcode in (OP_TEXT, 0x0):  # a fragmented message (not sent by our server)
            self.fragments = (self.fragments or bytearray()) + buffer[start:end]
            if final:
                whole, self.fragments = self.fragments, None
                self._message(whole, 0, len(whole))
        elif opcode == OP_PING:
            self._write(0xA, bytes(buffer[start:end]))
        elif opcode == OP_CLOSE:
            self._end()

    def _message(self, data: bytearray, start: int, end: int) -> None:
        """A whole text message in data[start:end]: a `call` is recorded without decoding
        the rest, other events are ignored, Engine.IO and namespace packets answered."""
        if data.startswith(self.call_prefix, start):
            match = NUMBER.search(data, start, end)
            if match:
                self.stats.records.append((match.group(1).decode(), time.perf_counter(), self.tag))
        elif data.startswith(self.event_prefix, start):
            self.stats.events += 1
        else:
            self._packet(bytes(data[start:end]).decode())

    def _packet(self, packet: str) -> None:
        if packet == "2":
            self.pings += 1
            self._send("3")
        elif packet.startswith("0"):
            auth = "" if self.auth is None else json.dumps(self.auth)
            self._send(f"40{self.namespace},{auth}")
        elif packet.startswith(f"40{self.namespace},"):
            self.alive = True
            if not self.connected.done():
                self.connected.set_result(True)
        elif packet.startswith(f"44{self.namespace},"):
            self.stats.refused += 1
            if not self.connected.done():
                self.connected.set_result(False)

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(opcode, payload))

    def _send(self, text: str) -> None:
        self._write(OP_TEXT, text.encode())

    def _end(self) -> None:
        if self.alive and not self.closing:
            self.stats.drops += 1
        self.alive = False
        if not self.connected.done():
            self.connected.set_result(False)
        if self.transport is not None:
            self.transport.close()

    async def close(self) -> None:
        self.closing = True
        if self.transport is not None and not self.transport.is_closing():
            self._write(OP_CLOSE, struct.pack("!H", 1000))
            await asyncio.sleep(0)
            self.transport.close()


async def _serve(
    pipe: Connection,
    urls: list[str],
    namespace: str,
    auths: list[Any],
    deflate: bool,
    queries: list[tuple[str, str]],
) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    clients: list[SocketClient] = []
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    failed = 0

    async def connect_one(index: int) -> None:
        nonlocal failed
        async with gate:
            query, tag = queries[index % len(queries)]
            client = SocketClient(
                urls[index % len(urls)],
                namespace,
                auths[index % len(auths)],
                stats,
                deflate,
                query,
                tag,
            )
            try:
                ok = await client.open()
            except (OSError, TimeoutError):
                ok = False
            if ok:
                clients.append(client)
            else:
                failed += 1
                await client.close()

    while True:
        command, argument = await loop.run_in_executor(None, pipe.recv)
        if command == "connect":
            start = len(clients) + failed
            await asyncio.gather(*(connect_one(index) for index in range(start, argument)))
            pipe.send(sum(client.alive for client in clients))
        elif command == "reset":
            stats.records.clear()
            for client in clients:
                client.pings = 0
            stats.drops = 0
            stats.events = 0
            pipe.send(True)
        elif command == "collect":
            pipe.send(
                {
                    "records": stats.records,
                    "alive": sum(client.alive for client in clients),
                    "drops": stats.drops,
                    "refused": stats.refused,
                    "failed": failed,
                    "min_pings": min((client.pings for client in clients), default=0),
                    "compressed": stats.compressed,
                    "events": stats.events,
                }
            )
        elif command == "close":
            await asyncio.gather(*(client.close() for client in clients))
            pipe.send(True)
            return


def _process(
    pipe: Connection,
    urls: list[str],
    namespace: str,
    auths: list[Any],
    deflate: bool,
    queries: list[tuple[str, str]],
) -> None:
    asyncio.run(_serve(pipe, urls, namespace, auths, deflate, queries))


class Fleet:
    """`processes` client processes holding Socket.IO connections to `urls` (round robin);
    with `deflate` they offer permessage-deflate as browsers do. `queries` gives each client
    a query string (e.g. `&site=s001`) and a tag its records carry; `auths` the Socket.IO
    auth: client i of the fleet takes queries[i % len(queries)] and auths[i % len(auths)]
    (process k holds clients k, k + processes, …)."""

    def __init__(
        self,
        urls: list[str],
        namespace: str,
        processes: int,
        auths: list[Any] | None = None,
        deflate: bool = True,
        queries: list[tuple[str, str]] | None = None,
    ) -> None:
        context = multiprocessing.get_context("fork")
        self.pipes: list[Connection] = []
        self.processes = []
        for index in range(processes):
            parent, child = context.Pipe()
            # Process i starts on server i, so the connections spread over every server.
            rotated = urls[index % len(urls) :] + urls[: index % len(urls)]
            process = context.Process(
                target=_process,
                args=(
                    child,
                    rotated,
                    namespace,
                    (auths or [None])[index::processes] or [None],
                    deflate,
                    (queries or [("", "")])[index::processes] or [("", "")],
                ),
                daemon=True,
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def _all(self, command: str, arguments: list[Any] | None = None) -> list[Any]:
        for index, pipe in enumerate(self.pipes):
            pipe.send((command, None if arguments is None else arguments[index]))
        return [pipe.recv() for pipe in self.pipes]

    def connect(self, total: int) -> int:
        """Grow to `total` connections; returns how many are connected."""
        share, extra = divmod(total, len(self.pipes))
        targets = [share + (1 if index < extra else 0) for index in range(len(self.pipes))]
        return int(sum(self._all("connect", targets)))

    def reset(self) -> None:
        self._all("reset")

    def collect(self) -> dict[str, Any]:
        parts = self._all("collect")
        return {
            "records": [record for part in parts for record in part["records"]],
            "alive": sum(part["alive"] for part in parts),
            "drops": sum(part["drops"] for part in parts),
            "refused": sum(part["refused"] for part in parts),
            "failed": sum(part["failed"] for part in parts),
            "min_pings": min(part["min_pings"] for part in parts),
            "compressed": sum(part["compressed"] for part in parts),
            "events": sum(part["events"] for part in parts),
        }

    def close(self) -> None:
        try:
            self._all("close")
        finally:
            for process in self.processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.terminate()
