"""Printer drivers against real sockets and files: the emulator in tests/printer_emulator.py."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.printer_emulator import PrinterEmulator
from ticket_printer.drivers import (
    DEFAULT_TCP_PORT,
    DummyPrinterDriver,
    PrinterError,
    PrinterStatus,
    TcpPrinterDriver,
    open_printer,
)
from ticket_printer.render import TicketLayout, TicketView, render_ticket

VIEW = TicketView(
    hall_name="西湖区人社服务大厅",
    number="B107",
    queue_name="综合业务",
    service_name="失业保险金申领",
    waiting_ahead=12,
    est_wait_min=35,
    issued_at="2026-11-21 14:27",
    status_url="https://yihao.example.cn/t/5b1e77c0a2",
    notice="过号请重新取号。",
)
TICKET = render_ticket(VIEW, TicketLayout(width_mm=80))
IMAGE_TICKET = render_ticket(VIEW, TicketLayout(width_mm=80, chinese_mode="image", qr="image"))


@pytest.fixture
def emulator() -> Iterator[PrinterEmulator]:
    with PrinterEmulator() as printer:
        yield printer


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------- tcp: sending


def test_ticket_arrives_whole_over_tcp(emulator: PrinterEmulator) -> None:
    with open_printer(emulator.url) as printer:
        printer.send(TICKET)

    # send() returns once the printer has closed its side, so everything has arrived.
    assert emulator.received == TICKET
    assert emulator.connections == [TICKET]


def test_large_image_ticket_arrives_whole(emulator: PrinterEmulator) -> None:
    assert len(IMAGE_TICKET) > 20_000  # raster images, many TCP segments

    with open_printer(emulator.url) as printer:
        printer.send(IMAGE_TICKET)

    assert emulator.received == IMAGE_TICKET


def test_each_ticket_uses_its_own_connection(emulator: PrinterEmulator) -> None:
    second = render_ticket(replace(VIEW, number="B108"))
    with open_printer(emulator.url) as printer:
        printer.send(TICKET)
        printer.send(second)

    assert emulator.connections == [TICKET, second]


def test_printer_switched_off_then_on_again(emulator: PrinterEmulator) -> None:
    printer = open_printer(emulator.url, timeout=1.0)
    printer.send(TICKET)

    emulator.stop()
    with pytest.raises(PrinterError, match="connection refused"):
        printer.send(TICKET)

    emulator.start()  # same port
    printer.send(TICKET)
    printer.close()
    assert emulator.connections == [TICKET, TICKET]


def test_refused_port_fails_fast_with_a_printer_error() -> None:
    url = f"tcp://127.0.0.1:{_unused_port()}"
    printer = open_printer(url)

    started = time.monotonic()
    with pytest.raises(PrinterError) as raised:
        printer.send(TICKET)
    assert time.monotonic() - started < 2.0
    assert raised.value.url == url
    assert "connection refused" in str(raised.value)
    assert url in str(raised.value)

    with pytest.raises(PrinterError, match="connection refused"):
        printer.status()


def test_printer_that_stops_reading_fails_after_the_timeout() -> None:
    # Enough bytes to fill the kernel buffers of both ends on loopback.
    job = bytes(48 * 1024 * 1024)
    with PrinterEmulator(stalled=True) as emulator:
        printer = open_printer(emulator.url, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(PrinterError, match=r"no response within 0\.3 s"):
            printer.send(job)
        assert time.monotonic() - started < 10


# --------------------------------------------------------------------------- tcp: status


def test_status_of_a_ready_printer(emulator: PrinterEmulator) -> None:
    with open_printer(emulator.url) as printer:
        status = printer.status()

    assert status == PrinterStatus(online=True, paper_ok=True, paper_low=False, error=None)
    assert status.state == "ready"
    assert emulator.status_requests == [1, 4]  # DLE EOT 1 (printer), DLE EOT 4 (paper)


def test_status_paper_near_end_is_still_ready(emulator: PrinterEmulator) -> None:
    emulator.paper = "near_end"

    status = open_printer(emulator.url).status()

    assert status.state == "ready"
    assert status.paper_ok is True
    assert status.paper_low is True


def test_status_paper_out(emulator: PrinterEmulator) -> None:
    emulator.paper = "out"

    status = open_printer(emulator.url).status()

    assert status.online is False
    assert status.paper_ok is False
    assert status.state == "error"
    assert status.error == "out of paper"
    assert emulator.status_requests == [1, 4, 2]  # offline, so it asks why


def test_status_cover_open(emulator: PrinterEmulator) -> None:
    emulator.cover_open = True

    status = open_printer(emulator.url).status()

    assert status.online is False
    assert status.paper_ok is True
    assert status.error == "cover open"


def test_status_changes_are_seen_on_the_next_request(emulator: PrinterEmulator) -> None:
    printer = open_printer(emulator.url)
    emulator.online = False
    assert printer.status().error == "offline"

    emulator.online = True
    assert printer.status().state == "ready"


def test_status_unknown_when_the_printer_does_not_answer() -> None:
    with PrinterEmulator(answers_status=False) as emulator:
        printer = open_printer(emulator.url, timeout=0.3)
        started = time.monotonic()
        status = printer.status()

    assert time.monotonic() - started < 2.0
    assert status.state == "unknown"
    assert status.online is None
    assert status.paper_ok is None
    assert status.error is not None
    assert "did not answer" in status.error


def test_status_then_ticket_on_one_driver(emulator: PrinterEmulator) -> None:
    with open_printer(emulator.url) as printer:
        assert printer.status().state == "ready"
        printer.send(TICKET)

    status_check, job = emulator.connections
    assert status_check == b"\x10\x04\x01\x10\x04\x04"
    assert job == TICKET


# --------------------------------------------------------------------------- URLs


def test_tcp_url_defaults_to_port_9100() -> None:
    printer = open_printer("tcp://printer-k1.hall.local")

    assert isinstance(printer, TcpPrinterDriver)
    assert (printer.host, printer.port) == ("printer-k1.hall.local", DEFAULT_TCP_PORT)
    assert DEFAULT_TCP_PORT == 9100
    other = open_printer("TCP://10.0.0.7:9101 ")
    assert isinstance(other, TcpPrinterDriver)
    assert (other.host, other.port) == ("10.0.0.7", 9101)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("10.0.0.7:9100", "unknown printer URL scheme"),
        ("lpt://1", "unknown printer URL scheme"),
        ("tcp://", "no host"),
        ("tcp://:9100", "no host"),
        ("tcp://10.0.0.7:port", "bad port"),
        ("tcp://10.0.0.7:70000", "bad port"),
        ("tcp://10.0.0.7:9100/queue", "unexpected path"),
        ("tcp://10.0.0.7?timeout=1", "unknown option 'timeout'"),
        ("tcp://user:secret@10.0.0.7", "no user or password"),
        ("usb://04b8", "usb://VID:PID"),
        ("usb://04b8:", "usb://VID:PID"),
        ("usb://zzzz:0202", "usb://VID:PID"),
        ("usb://04b8:12345", "usb://VID:PID"),
        ("usb://0000:0202", "usb://VID:PID"),
        ("usb://04b8:0202?in_ep=left", "in_ep must be a number"),
        ("serial://", "no device"),
        ("serial:///dev/ttyUSB0?baudrate=fast", "baudrate must be a number"),
        ("serial:///dev/ttyUSB0?baudrate=0", "baudrate must be positive"),
        ("serial:///dev/ttyUSB0?baud=9600", "unknown option 'baud'"),
        ("file://", "no file path"),
        ("file://printer/dev/usb/lp0", "no file path"),
        ("dummy://?status=broken", "status must be one of"),
        ("dummy://somewhere", "no host or path"),
    ],
)
def test_bad_urls_are_rejected_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_printer(url)


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout must be positive"):
        open_printer("dummy://", timeout=0)


def test_usb_printer_that_is_not_there_raises_printer_error() -> None:
    # Without pyusb the driver cannot be built; with it, no such device is plugged in.
    with pytest.raises(PrinterError, match=r"pyusb|cannot connect"):
        open_printer("usb://0416:5011?out_ep=0x03").send(TICKET)


def test_serial_printer_that_is_not_there_raises_printer_error() -> None:
    with pytest.raises(PrinterError, match=r"pyserial|cannot connect"):
        open_printer("serial:///dev/ttyYIHAO-missing?baudrate=19200").send(TICKET)


# --------------------------------------------------------------------------- dummy and file


def test_dummy_keeps_every_job_in_memory() -> None:
    printer = open_printer("dummy://")
    assert isinstance(printer, DummyPrinterDriver)

    printer.send(TICKET)
    printer.send(b"\x1b@second")
    printer.close()

    assert printer.jobs == [TICKET, b"\x1b@second"]
    assert printer.output == TICKET + b"\x1b@second"
    assert printer.status().state == "ready"


def test_dummy_can_play_a_printer_out_of_paper_or_switched_off() -> None:
    assert open_printer("dummy://?status=paper_out").status().error == "out of paper"
    assert open_printer("dummy://?status=unknown").status().state == "unknown"

    switched_off = open_printer("dummy://?status=unreachable")
    with pytest.raises(PrinterError, match="not reachable"):
        switched_off.send(TICKET)
    assert isinstance(switched_off, DummyPrinterDriver)
    assert switched_off.jobs == []

    switched_off.reachable = True  # switched back on
    switched_off.send(TICKET)
    assert switched_off.jobs == [TICKET]


def test_file_printer_writes_the_ticket(tmp_path: Path) -> None:
    target = tmp_path / "lp0"

    with open_printer(f"file://{target}") as printer:
        printer.send(TICKET)
        printer.send(TICKET)
        status = printer.status()

    assert target.read_bytes() == TICKET + TICKET
    assert status.state == "unknown"  # a device file has no way to answer


def test_file_printer_in_a_missing_directory_raises_printer_error(tmp_path: Path) -> None:
    printer = open_printer(f"file://{tmp_path}/no-such-dir/lp0")

    with pytest.raises(PrinterError, match="cannot connect.*no such file"):
        printer.send(TICKET)
