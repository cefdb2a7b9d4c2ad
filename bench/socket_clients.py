"""Many lightweight Socket.IO clients: asyncio + wsproto (already installed with
simple-websocket), speaking just enough Engine.IO 4 / Socket.IO 5 over the WebSocket
transport: open, namespace connect with auth, answer pings, record `call` events.

Each client process is driven through a pipe by a `Fleet` in the parent."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import time
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

NUMBER = re.compile(r'"number":\s*"([^"]+)"')
CONNECTS_AT_ONCE = 25


class Stats:
    def __init__(self) -> None:
        self.records: list[tuple[str, float]] = []
        self.drops = 0
        self.refused = 0


class SocketClient:
    def __init__(self, url: str, namespace: str, auth: dict[str, Any] | None, stats: Stats):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.namespace, self.auth, self.stats = namespace, auth, stats
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.connected: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.pings = 0
        self.closing = False
        self.alive = False
        self.writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self, timeout: float = 60) -> bool:
        reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(
            self.ws.send(
                Request(
                    host=f"{self.host}:{self.port}",
                    target="/socket.io/?EIO=4&transport=websocket",
                )
            )
        )
        self.task = asyncio.create_task(self._read(reader))
        return await asyncio.wait_for(self.connected, timeout)

    def _send(self, text: str) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(self.ws.send(TextMessage(data=text)))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        buffer = ""
        prefix = f"42{self.namespace},"
        try:
            while data := await reader.read(65536):
                self.ws.receive_data(data)
                for event in self.ws.events():
                    if isinstance(event, TextMessage):
                        buffer += event.data
                        if not event.message_finished:
                            continue
                        packet, buffer = buffer, ""
                        self._packet(packet, prefix)
                    elif isinstance(event, Ping) and self.writer is not None:
                        self.writer.write(self.ws.send(event.response()))
                    elif isinstance(event, CloseConnection | RejectConnection):
                        return
                    elif isinstance(event, AcceptConnection):
                        pass
        except (ConnectionError, OSError):
            pass
        finally:
            if self.alive and not self.closing:
                self.stats.drops += 1
            self.alive = False
            if not self.connected.done():
                self.connected.set_result(False)

    def _packet(self, packet: str, event_prefix: str) -> None:
        if packet.startswith(event_prefix):
            if packet.startswith('["call"', len(event_prefix)):
                match = NUMBER.search(packet)
                if match:
                    self.stats.records.append((match.group(1), time.perf_counter()))
        elif packet == "2":
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

    async def close(self) -> None:
        self.closing = True
        if self.writer is not None and not self.writer.is_closing():
            try:
                self.writer.write(self.ws.send(CloseConnection(code=1000)))
                await self.writer.drain()
            except (ConnectionError, OSError, RuntimeError):
                pass
            self.writer.close()
        if self.task is not None:
            self.task.cancel()


async def _serve(pipe: Connection, urls: list[str], namespace: str, auths: list[Any]) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    clients: list[SocketClient] = []
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    failed = 0

    async def connect_one(index: int) -> None:
        nonlocal failed
        async with gate:
            client = SocketClient(
                urls[index % len(urls)], namespace, auths[index % len(auths)], stats
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
                }
            )
        elif command == "close":
            await asyncio.gather(*(client.close() for client in clients))
            pipe.send(True)
            return


def _process(pipe: Connection, urls: list[str], namespace: str, auths: list[Any]) -> None:
    asyncio.run(_serve(pipe, urls, namespace, auths))


class Fleet:
    """`processes` client processes holding Socket.IO connections to `urls` (round robin)."""

    def __init__(
        self, urls: list[str], namespace: str, processes: int, auths: list[Any] | None = None
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
                args=(child, rotated, namespace, auths or [None]),
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
        }

    def close(self) -> None:
        try:
            self._all("close")
        finally:
            for process in self.processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.terminate()
