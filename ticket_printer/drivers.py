"""Printer drivers: send ESC/POS bytes to a printer chosen by URL, and ask how it is.

    open_printer("tcp://192.168.1.50:9100")          network printer (raw port 9100)
    open_printer("usb://0416:5011")                   USB, vendor:product in hex (needs pyusb)
    open_printer("serial:///dev/ttyUSB0?baudrate=9600")   serial port (needs pyserial)
    open_printer("file:///dev/usb/lp0")               a device file (or any file)
    open_printer("dummy://")                          keeps the bytes in memory

Every failure to reach or write to a printer raises `PrinterError` with a message for
people. Connections are opened with python-escpos's own printer classes; the bytes sent are
already complete ESC/POS jobs from `ticket_printer.render.render_ticket`.

A driver serialises its own calls (one job at a time) but is meant to be used by one print
worker; nothing here retries: retrying and giving up belong to the print queue.
"""

from __future__ import annotations

import errno
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any, Literal
from urllib.parse import SplitResult, parse_qsl, urlsplit

from escpos.exceptions import Error as EscposError  # type: ignore[import-untyped]
from escpos.printer import Dummy, File, Network, Serial, Usb  # type: ignore[import-untyped]

# DLE EOT n: real-time status requests, answered even while the printer is offline.
_STATUS_REQUEST = b"\x10\x04"
_PRINTER_STATUS = 1  # bit 3: offline
_OFFLINE_CAUSE = 2  # bit 2: cover open, bit 5: stopped by paper end, bit 6: error
_PAPER_SENSOR = 4  # bits 2-3: paper near end, bits 5-6: paper end
_STATUS_FIXED_BITS_MASK = 0x93  # bits 0, 1, 4, 7 of every status byte are 0, 1, 1, 0
_STATUS_FIXED_BITS = 0x12

DEFAULT_TCP_PORT = 9100


class PrinterError(Exception):
    """The printer cannot be reached or written to; the message is meant for people."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"printer {url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer says about itself; None where it did not say."""

    online: bool | None
    paper_ok: bool | None
    paper_low: bool = False
    error: str | None = None  # why it cannot print, for people; None when it can

    @classmethod
    def unknown(cls, reason: str) -> PrinterStatus:
        """A printer that cannot answer (a file, no back channel, or silence)."""
        return cls(online=None, paper_ok=None, error=reason)

    @property
    def state(self) -> Literal["ready", "error", "unknown"]:
        if self.online is None:
            return "unknown"
        if self.online and self.paper_ok is not False and self.error is None:
            return "ready"
        return "error"


READY = PrinterStatus(online=True, paper_ok=True)


class PrinterDriver(ABC):
    """One printer. `send` raises PrinterError when the bytes could not be delivered."""

    url: str

    @abstractmethod
    def send(self, data: bytes) -> None:
        """Deliver one complete job to the printer."""

    @abstractmethod
    def status(self) -> PrinterStatus:
        """Ask the printer; PrinterError if it cannot be reached at all."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; the driver reconnects if used again."""

    def __enter__(self) -> PrinterDriver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


# --------------------------------------------------------------------------- dummy


class DummyPrinterDriver(PrinterDriver):
    """Keeps every job in memory; the default printer and the one tests use.

    `reported_status` and `reachable` can be changed to play a printer that is out of
    paper or switched off.
    """

    def __init__(
        self,
        url: str = "dummy://",
        reported_status: PrinterStatus = READY,
        reachable: bool = True,
    ) -> None:
        self.url = url
        self.reported_status = reported_status
        self.reachable = reachable
        self.jobs: list[bytes] = []
        self._printer = Dummy()
        self._lock = threading.Lock()

    @property
    def output(self) -> bytes:
        """Every byte sent so far, in order."""
        return bytes(self._printer.output)

    def send(self, data: bytes) -> None:
        with self._lock:
            self._check_reachable()
            self._printer._raw(bytes(data))
            self.jobs.append(bytes(data))

    def status(self) -> PrinterStatus:
        with self._lock:
            self._check_reachable()
            return self.reported_status

    def close(self) -> None:
        """Nothing to release; the jobs stay for inspection."""

    def _check_reachable(self) -> None:
        if not self.reachable:
            raise PrinterError(self.url, "not reachable (dummy printer switched off)")


# --------------------------------------------------------------------------- python-escpos


class EscposPrinterDriver(PrinterDriver):
    """A python-escpos connection (Usb, Serial, File) kept open between jobs.

    After any failure the connection is dropped, so the next call opens a fresh one: a
    printer that was unplugged or switched off works again once it is back.
    """

    def __init__(
        self,
        url: str,
        connect: Callable[[], Any],
        *,
        timeout: float,
        answers_status: bool = True,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self._connect = connect  # builds a python-escpos printer, not yet opened
        self._answers_status = answers_status
        self._connection: Any = None
        self._lock = threading.Lock()

    def send(self, data: bytes) -> None:
        with self._lock:
            connection = self._open()
            try:
                self._write(connection, bytes(data))
            except _CONNECTION_ERRORS as error:
                self._drop()
                raise PrinterError(self.url, f"sending failed: {self._reason(error)}") from error
            self._job_done()

    def status(self) -> PrinterStatus:
        if not self._answers_status:
            return PrinterStatus.unknown("this kind of printer cannot report its status")
        with self._lock:
            connection = self._open()
            try:
                status = _ask_status(connection, self.timeout)
            except _CONNECTION_ERRORS as error:
                self._drop()
                raise PrinterError(
                    self.url, f"status request failed: {self._reason(error)}"
                ) from error
            self._job_done()
            return status

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _open(self) -> Any:
        if self._connection is None:
            connection = self._connect()
            try:
                self._attach(connection)
            except _CONNECTION_ERRORS as error:
                raise PrinterError(self.url, f"cannot connect: {self._reason(error)}") from error
            self._connection = connection
        return self._connection

    def _attach(self, connection: Any) -> None:
        """Open the device of a freshly built python-escpos printer."""
        connection.open()

    def _write(self, connection: Any, data: bytes) -> None:
        connection._raw(data)

    def _job_done(self) -> None:
        """Called after each successful send or status; device connections stay open."""

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except _CONNECTION_ERRORS:
                pass  # already broken; nothing left to release

    def _reason(self, error: BaseException) -> str:
        # python-escpos wraps the OSError that says what really happened.
        cause = error.__cause__ or error.__context__
        if isinstance(error, EscposError) and isinstance(cause, OSError):
            error = cause
        if isinstance(error, ConnectionRefusedError):
            return "connection refused (printer off, or wrong address or port)"
        if isinstance(error, TimeoutError) or getattr(error, "errno", None) == errno.ETIMEDOUT:
            return f"no response within {self.timeout:g} s (printer off, busy or unreachable)"
        if isinstance(error, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return "the printer closed the connection"
        if isinstance(error, socket.gaierror):
            return "unknown host name"
        if isinstance(error, OSError) and error.strerror:
            return error.strerror[0].lower() + error.strerror[1:]
        return str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__


class TcpPrinterDriver(EscposPrinterDriver):
    """A network printer on a raw TCP port (9100), one connection per job.

    A fresh connection per job means a printer that rebooted since the last ticket is
    reached again instead of through a dead socket, and other clients are not locked out
    of a printer that only accepts one connection at a time.
    """

    def __init__(self, url: str, host: str, port: int, *, timeout: float) -> None:
        super().__init__(url, lambda: Network(host, port, timeout=timeout), timeout=timeout)
        self.host = host
        self.port = port

    def _attach(self, connection: Any) -> None:
        # Not Network.open(): python-escpos 3.1 drops the socket of a failed connect without
        # closing it (a ResourceWarning on every refused attempt) and only tries IPv4. The
        # Network object then writes, reads and closes this socket as its own.
        connection.device = socket.create_connection((self.host, self.port), timeout=self.timeout)

    def _write(self, connection: Any, data: bytes) -> None:
        # Not python-escpos's sendall: its timeout bounds the whole transfer, so a slow
        # printer that reads an image ticket as it prints would fail half-printed (and be
        # printed again by a retry). Here the timeout bounds each wait for progress: only a
        # printer that stops reading fails.
        sock: socket.socket = connection.device
        pending = memoryview(data)
        while pending:
            pending = pending[sock.send(pending) :]

    def _job_done(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            _close_gracefully(connection.device, min(self.timeout, 1.0))
            connection.close()


def _close_gracefully(sock: socket.socket | None, drain_timeout: float) -> None:
    """End the job with FIN and wait briefly for the printer to close its side.

    Closing a socket that still has unread input (a late status answer, or a printer that
    answered a DLE EOT found inside image data) sends RST, which can discard the end of a
    job still on its way. Once the printer closes, it has read every byte.
    """
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(drain_timeout)
        while sock.recv(256):
            pass
    except OSError:
        pass  # the bytes are already handed to the network; nothing more to learn


_CONNECTION_ERRORS = (OSError, EscposError, RuntimeError)  # RuntimeError: missing pyusb/pyserial


# --------------------------------------------------------------------------- status


def _ask_status(connection: Any, timeout: float) -> PrinterStatus:
    printer_byte = _ask(connection, _PRINTER_STATUS)
    if printer_byte is None:
        return PrinterStatus.unknown(f"the printer did not answer a status request ({timeout:g} s)")
    online = not printer_byte & 0x08
    paper_byte = _ask(connection, _PAPER_SENSOR)
    cause_byte = None if online else _ask(connection, _OFFLINE_CAUSE)

    problems: list[str] = []
    paper_ok: bool | None = None
    paper_low = False
    if paper_byte is not None:
        paper_ok = not paper_byte & 0x60
        paper_low = bool(paper_byte & 0x0C)
    if cause_byte is not None and cause_byte & 0x20:
        paper_ok = False
    if paper_ok is False:
        problems.append("out of paper")
    if cause_byte is not None:
        if cause_byte & 0x04:
            problems.append("cover open")
        if cause_byte & 0x40:
            problems.append("printer error (paper jam, cutter or overheating)")
    if not online and not problems:
        problems.append("offline")
    return PrinterStatus(
        online=online,
        paper_ok=paper_ok,
        paper_low=paper_low,
        error="; ".join(problems) or None,
    )


def _ask(connection: Any, request: int) -> int | None:
    """Send DLE EOT n and return the status byte, or None if the printer stayed silent."""
    connection._raw(_STATUS_REQUEST + bytes([request]))
    try:
        answer = bytes(connection._read())
    except TimeoutError:
        return None
    except OSError as error:
        if error.errno == errno.ETIMEDOUT:  # pyusb reports timeouts this way
            return None
        raise
    # Keep the last byte shaped like a status byte; anything else is noise.
    status_bytes = [byte for byte in answer if byte & _STATUS_FIXED_BITS_MASK == _STATUS_FIXED_BITS]
    return status_bytes[-1] if status_bytes else None


# --------------------------------------------------------------------------- URLs


def open_printer(url: str, timeout: float = 3.0) -> PrinterDriver:
    """A driver for the printer at `url`; nothing is connected until the first call.

    Raises ValueError for a malformed URL, PrinterError when the library the printer needs
    (pyusb, pyserial) is missing.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError("printer URL is empty; use e.g. tcp://192.168.1.50:9100 or dummy://")
    if not timeout > 0:
        raise ValueError(f"printer timeout must be positive, got {timeout!r}")
    url = url.strip()
    parts = urlsplit(url)
    opener = PRINTER_SCHEMES.get(parts.scheme.lower())
    if opener is None:
        known = ", ".join(f"{scheme}://" for scheme in PRINTER_SCHEMES)
        raise ValueError(f"unknown printer URL scheme in {url!r}; use one of {known}")
    return opener(url, parts, timeout)


def _open_tcp(url: str, parts: SplitResult, timeout: float) -> PrinterDriver:
    _options(url, parts, allowed=())
    _no_path(url, parts)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError(f"bad port in printer URL {url!r}; expected tcp://HOST[:PORT]") from None
    if not host:
        raise ValueError(f"printer URL {url!r} has no host; expected tcp://HOST[:PORT]")
    if parts.username or parts.password:
        raise ValueError(f"printer URL {url!r}: raw TCP printers take no user or password")
    return TcpPrinterDriver(url, host, port or DEFAULT_TCP_PORT, timeout=timeout)


def _open_usb(url: str, parts: SplitResult, timeout: float) -> PrinterDriver:
    options = _options(url, parts, allowed=("in_ep", "out_ep"))
    _no_path(url, parts)
    vendor_id, product_id = _usb_ids(url, parts.netloc)
    endpoints = {name: _integer(url, name, value) for name, value in options.items()}
    if not Usb.is_usable():
        raise PrinterError(url, "USB printers need pyusb: pip install 'python-escpos[usb]'")
    return EscposPrinterDriver(
        url,
        # python-escpos passes the timeout to pyusb, which counts milliseconds.
        lambda: Usb(vendor_id, product_id, timeout=int(timeout * 1000), **endpoints),
        timeout=timeout,
    )


def _open_serial(url: str, parts: SplitResult, timeout: float) -> PrinterDriver:
    options = _options(url, parts, allowed=("baudrate",))
    device = parts.netloc + parts.path  # serial:///dev/ttyUSB0, or serial://COM3 on Windows
    if not device:
        raise ValueError(f"printer URL {url!r} has no device; expected serial:///dev/ttyUSB0")
    baudrate = _integer(url, "baudrate", options.get("baudrate", "9600"))
    if not Serial.is_usable():
        raise PrinterError(
            url, "serial printers need pyserial: pip install 'python-escpos[serial]'"
        )
    return EscposPrinterDriver(
        url,
        lambda: Serial(device, baudrate=baudrate, timeout=timeout),
        timeout=timeout,
    )


def _open_file(url: str, parts: SplitResult, timeout: float) -> PrinterDriver:
    _options(url, parts, allowed=())
    if parts.netloc not in ("", "localhost") or not parts.path:
        raise ValueError(f"printer URL {url!r} has no file path; expected file:///dev/usb/lp0")
    path = parts.path
    # A device file has no back channel here, so status is always unknown.
    return EscposPrinterDriver(url, lambda: File(path), timeout=timeout, answers_status=False)


_DUMMY_STATUSES: Mapping[str, PrinterStatus] = {
    "ready": READY,
    "paper_out": PrinterStatus(online=False, paper_ok=False, error="out of paper"),
    "offline": PrinterStatus(online=False, paper_ok=True, error="offline"),
    "unknown": PrinterStatus.unknown("dummy printer does not answer"),
}


def _open_dummy(url: str, parts: SplitResult, timeout: float) -> PrinterDriver:
    """dummy:// ; dummy://?status=paper_out|offline|unknown|unreachable plays a sick printer."""
    options = _options(url, parts, allowed=("status",))
    if parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"printer URL {url!r}: a dummy printer takes no host or path")
    wanted = options.get("status", "ready")
    if wanted == "unreachable":
        return DummyPrinterDriver(url, reachable=False)
    if wanted not in _DUMMY_STATUSES:
        choices = ", ".join([*_DUMMY_STATUSES, "unreachable"])
        raise ValueError(f"printer URL {url!r}: status must be one of {choices}")
    return DummyPrinterDriver(url, reported_status=_DUMMY_STATUSES[wanted])


_Opener = Callable[[str, SplitResult, float], PrinterDriver]

PRINTER_SCHEMES: Mapping[str, _Opener] = MappingProxyType(
    {
        "tcp": _open_tcp,
        "usb": _open_usb,
        "serial": _open_serial,
        "file": _open_file,
        "dummy": _open_dummy,
    }
)


def _options(url: str, parts: SplitResult, allowed: tuple[str, ...]) -> dict[str, str]:
    # Reject unknown options so that a typo (baud=) is an error, not a silent default.
    options: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in allowed:
            accepted = ", ".join(allowed) or "none"
            raise ValueError(f"printer URL {url!r}: unknown option {name!r} (accepted: {accepted})")
        options[name] = value
    if parts.fragment:
        raise ValueError(f"printer URL {url!r}: unexpected '#{parts.fragment}'")
    return options


def _no_path(url: str, parts: SplitResult) -> None:
    if parts.path not in ("", "/"):
        raise ValueError(f"printer URL {url!r}: unexpected path {parts.path!r}")


def _usb_ids(url: str, netloc: str) -> tuple[int, int]:
    vendor, _, product = netloc.partition(":")
    try:
        ids = (_hex_id(vendor), _hex_id(product))
    except ValueError:
        raise ValueError(
            f"printer URL {url!r}: expected usb://VID:PID with 4-digit hex ids, e.g. usb://0416:5011"
        ) from None
    return ids


def _hex_id(text: str) -> int:
    digits = text[2:] if text.lower().startswith("0x") else text
    if not 1 <= len(digits) <= 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(text)
    if int(digits, 16) == 0:  # python-escpos would drop a zero id and open any USB device
        raise ValueError(text)
    return int(digits, 16)


def _integer(url: str, name: str, value: str) -> int:
    try:
        number = int(value, 0)  # accepts 0x81 as well as 129
    except ValueError:
        raise ValueError(f"printer URL {url!r}: {name} must be a number, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"printer URL {url!r}: {name} must be positive, got {value!r}")
    return number
