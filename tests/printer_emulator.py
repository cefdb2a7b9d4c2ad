"""A network receipt printer for tests: a real TCP server on 127.0.0.1.

It records every byte it receives and answers ESC/POS real-time status requests
(DLE EOT n) like an Epson-compatible printer, from settings a test can change while it
runs: online, paper, cover, or not answering at all. It can stop and start again on the
same port, like a printer switched off and on.

    with PrinterEmulator(paper="out") as printer:
        driver = open_printer(printer.url)
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from types import TracebackType
from typing import Literal

DLE_EOT = b"\x10\x04"
_FIXED_BITS = 0x12  # bits 1 and 4 are set in every status byte

PaperLevel = Literal["ok", "near_end", "out"]


class PrinterEmulator:
    """One printer on 127.0.0.1; connections are served one at a time, as printers do."""

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        online: bool = True,
        paper: PaperLevel = "ok",
        cover_open: bool = False,
        answers_status: bool = True,
        stalled: bool = False,
        port: int = 0,
    ) -> None:
        self.online = online
        self.paper: PaperLevel = paper
        self.cover_open = cover_open
        self.answers_status = answers_status  # False: a printer with no back channel
        self.stalled = stalled  # True: accepts connections but never reads (jammed buffer)
        self.port = port
        self._received = bytearray()
        self._connections: list[bytes] = []
        self._status_requests: list[int] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._held: list[socket.socket] = []  # connections a stalled printer never reads

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> PrinterEmulator:
        if self.running:
            raise RuntimeError("printer emulator already running")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Restarting on the same port must not wait for old connections in TIME_WAIT.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(8)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._serve, name=f"printer-emulator:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Switch the printer off: the port refuses connections until `start()`."""
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout=5)
        self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for held in self._held:
            held.close()
        self._held.clear()

    def __enter__(self) -> PrinterEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ what arrived

    @property
    def received(self) -> bytes:
        """Every byte received on every connection, in order."""
        with self._lock:
            return bytes(self._received)

    @property
    def connections(self) -> list[bytes]:
        """The bytes of each finished connection (a print job or a status check)."""
        with self._lock:
            return list(self._connections)

    @property
    def status_requests(self) -> list[int]:
        """The n of every DLE EOT n received."""
        with self._lock:
            return list(self._status_requests)

    def wait_for_connections(self, count: int, timeout: float = 5.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            finished = self.connections
            if len(finished) >= count:
                return finished
            time.sleep(0.01)
        raise TimeoutError(f"printer emulator saw {len(self.connections)} of {count} connections")

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._connections.clear()
            self._status_requests.clear()

    # ------------------------------------------------------------------ status bytes

    def status_byte(self, request: int) -> int:
        """The answer to DLE EOT `request`, per the ESC/POS real-time status tables."""
        paper_out = self.paper == "out"
        if request == 1:  # printer status; bit 3 = offline
            really_online = self.online and not self.cover_open and not paper_out
            return _FIXED_BITS | (0 if really_online else 0x08)
        if request == 2:  # offline cause; bit 2 cover, bit 5 paper end stop
            return _FIXED_BITS | (0x04 if self.cover_open else 0) | (0x20 if paper_out else 0)
        if request == 4:  # roll paper sensor; bits 2-3 near end, bits 5-6 end
            near_end = 0x0C if self.paper in ("near_end", "out") else 0
            return _FIXED_BITS | near_end | (0x60 if paper_out else 0)
        return _FIXED_BITS  # 3: error cause, none here

    # ------------------------------------------------------------------ serving

    def _serve(self) -> None:
        assert self._listener is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stopping.is_set():
                if not selector.select(timeout=0.02):
                    continue
                connection, _ = self._listener.accept()
                if self.stalled:
                    self._held.append(connection)
                    continue
                with connection:
                    self._serve_connection(connection)

    def _serve_connection(self, connection: socket.socket) -> None:
        connection.settimeout(0.02)  # short waits so that stop() is noticed
        job = bytearray()
        unparsed = b""  # the start of a DLE EOT n split across reads
        while not self._stopping.is_set():
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break  # the client finished its job (FIN)
            with self._lock:
                self._received += chunk
            job += chunk
            requests, unparsed = _status_requests(unparsed + chunk)
            for request in requests:
                with self._lock:
                    self._status_requests.append(request)
                if self.answers_status:
                    try:
                        connection.sendall(bytes([self.status_byte(request)]))
                    except OSError:
                        break
        # Recorded before the socket closes: a client that waits for our close sees it all.
        with self._lock:
            self._connections.append(bytes(job))


def _status_requests(data: bytes) -> tuple[list[int], bytes]:
    """The n of each DLE EOT n in `data`, and a trailing incomplete request to keep."""
    requests: list[int] = []
    start = 0
    while True:
        index = data.find(DLE_EOT, start)
        if index == -1:
            partial = len(data) > start and data.endswith(b"\x10")
            return requests, (b"\x10" if partial else b"")
        if index + 2 >= len(data):
            return requests, data[index:]
        requests.append(data[index + 2])
        start = index + 3
