"""Slow and silent clients against a running server: how long until it drops them.

    python run.py --async-mode gevent --port 5077 &
    python -m bench.slow_clients http://127.0.0.1:5077 --slowloris 400 --silent 500 --pid PID

Slowloris: each connection sends a request line, then one header byte every `--drip` seconds
and never ends its headers. Silent Socket.IO: each connects a WebSocket to `/display`, takes
the `open` packet and the snapshot, and then never writes again (no pong) while still reading,
so the server's close reaches it. Prints, every few seconds, how many of each are still open
(seen from the client: the server has not closed them) and, with --pid, how many sockets the
server process holds."""

from __future__ import annotations

import argparse
import base64
import os
import selectors
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Probe:
    kind: str  # "slowloris" or "silent"
    sock: socket.socket
    opened_at: float
    closed_at: float | None = None
    received: bytearray = field(default_factory=bytearray)


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=10)
    sock.setblocking(False)
    return sock


def open_slowloris(host: str, port: int) -> Probe:
    sock = _connect(host, port)
    sock.send(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode())
    return Probe("slowloris", sock, time.monotonic())


def open_silent(host: str, port: int) -> Probe:
    sock = socket.create_connection((host, port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        answer += chunk
    if b" 101 " not in answer.split(b"\r\n", 1)[0]:
        raise ConnectionError(answer.split(b"\r\n", 1)[0].decode(errors="replace"))
    sock.sendall(_masked_text("40/display,"))
    sock.setblocking(False)
    return Probe("silent", sock, time.monotonic())


def _masked_text(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def server_sockets(pid: int) -> int:
    count = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


def watch(
    probes: list[Probe], seconds: float, drip_s: float, pid: int | None, every_s: float = 5
) -> dict[str, list[float]]:
    """Read from every probe (dripping slowloris bytes) until all are closed or `seconds`
    pass; returns, per kind, the seconds each took to be closed."""
    selector = selectors.DefaultSelector()
    for probe in probes:
        selector.register(probe.sock, selectors.EVENT_READ, probe)
    start = time.monotonic()
    next_drip = start + drip_s
    next_report = start
    open_count = len(probes)
    while open_count and time.monotonic() - start < seconds:
        for key, _ in selector.select(timeout=0.2):
            probe: Probe = key.data
            try:
                chunk = probe.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            if chunk:
                probe.received += chunk[:64]
                continue
            probe.closed_at = time.monotonic()
            selector.unregister(probe.sock)
            probe.sock.close()
            open_count -= 1
        now = time.monotonic()
        if now >= next_drip:
            next_drip = now + drip_s
            for probe in probes:
                if probe.kind == "slowloris" and probe.closed_at is None:
                    try:
                        probe.sock.send(b"x")
                    except OSError:
                        pass
        if now >= next_report:
            next_report = now + every_s
            still = {
                kind: sum(1 for p in probes if p.kind == kind and p.closed_at is None)
                for kind in ("slowloris", "silent")
            }
            held = f", server sockets {server_sockets(pid)}" if pid else ""
            print(f"{now - start:5.1f} s: open {still}{held}", flush=True)
    for probe in probes:
        if probe.closed_at is None:
            probe.sock.close()
    return {
        kind: [
            (p.closed_at if p.closed_at is not None else float("inf")) - p.opened_at
            for p in probes
            if p.kind == kind
        ]
        for kind in ("slowloris", "silent")
    }


def run(
    url: str, slowloris: int, silent: int, seconds: float, drip_s: float, pid: int | None
) -> dict[str, list[float]]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    probes = [open_silent(host, port) for _ in range(silent)]
    probes += [open_slowloris(host, port) for _ in range(slowloris)]
    return watch(probes, seconds, drip_s, pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--slowloris", type=int, default=400)
    parser.add_argument("--silent", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--drip", type=float, default=2, help="seconds between slowloris bytes")
    parser.add_argument("--pid", type=int, help="the server's pid, to count its sockets")
    args = parser.parse_args()
    closed = run(args.url, args.slowloris, args.silent, args.seconds, args.drip, args.pid)
    for kind, times in closed.items():
        if times:
            done = sorted(times)
            print(
                f"{kind}: {len(done)} opened, {sum(t < float('inf') for t in done)} dropped, "
                f"slowest {done[-1]:.1f} s, median {done[len(done) // 2]:.1f} s"
            )


if __name__ == "__main__":
    main()
