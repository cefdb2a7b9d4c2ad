"""The print agent end to end: a real server whose hall file gives K1 an agent_token, the
agent as its own process (`python -m ticket_printer.agent`) printing to the TCP printer
emulator; it prints, acknowledges, reconnects, and prints a re-sent job once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select

from queue_server.models import PrintJob
from tests.live_server import ROOT, LiveServer
from tests.printer_emulator import PrinterEmulator
from ticket_printer.agent import PrintAgent
from ticket_printer.drivers import open_printer

TOKEN = "kiosk-k1-agent-token"
CUT = b"\x1dV"


def hall_file(tmp_path: Path) -> Path:
    hall = yaml.safe_load((ROOT / "config" / "demo-hall.yaml").read_text(encoding="utf-8"))
    hall["sites"][0]["kiosks"] = [
        {"code": "K1", "name": "一楼取号机", "agent_token": TOKEN, "paper_mm": 58}
    ]
    path = tmp_path / "hall.yaml"
    path.write_text(yaml.safe_dump(hall, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path, "--no-scheduler", "--config", str(hall_file(tmp_path))).start()
    yield live
    live.stop()


def start_agent(server: LiveServer, printer: PrinterEmulator, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ticket_printer.agent",
                "--server",
                server.url,
                "--kiosk",
                "K1",
                "--printer",
                printer.url,
            ],
            cwd=ROOT,
            env={"YIHAO_KIOSK_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def tickets_printed(printer: PrinterEmulator, count: int, timeout: float = 20) -> list[bytes]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        printed = [job for job in printer.connections if CUT in job]
        if len(printed) >= count:
            return printed
        time.sleep(0.05)
    raise AssertionError(f"{len(printed)} of {count} tickets printed")


def job_states(server: LiveServer) -> list[str]:
    engine = create_engine(server.database)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(select(PrintJob.state).order_by(PrintJob.id)))
    finally:
        engine.dispose()


def wait_for_states(server: LiveServer, expected: list[str], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while job_states(server) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job_states(server) == expected


def test_agent_prints_acknowledges_and_catches_up_after_reconnecting(
    server: LiveServer, tmp_path: Path
) -> None:
    with PrinterEmulator() as printer:
        agent = start_agent(server, printer, tmp_path / "agent.log")
        try:
            first = server.post("/api/v1/tickets", {"service": "employment", "kiosk": "K1"})
            assert first.status_code == 201
            [ticket] = tickets_printed(printer, 1)
            assert first.json()["ticket"]["number"].encode() in ticket
            wait_for_states(server, ["printed"])

            stop(agent)  # the kiosk PC is off while a ticket is taken
            second = server.post("/api/v1/tickets", {"service": "employment", "kiosk": "K1"})
            assert second.status_code == 201
            time.sleep(0.5)
            assert len(tickets_printed(printer, 1)) == 1

            agent = start_agent(server, printer, tmp_path / "agent.log")
            printed = tickets_printed(printer, 2)
            assert second.json()["ticket"]["number"].encode() in printed[1]
            wait_for_states(server, ["printed", "printed"])
            time.sleep(1.0)
            assert len([job for job in printer.connections if CUT in job]) == 2  # once each
        finally:
            stop(agent)
    log = (tmp_path / "agent.log").read_text(errors="replace")
    assert "Traceback" not in log, log


def test_agent_prints_a_resent_job_once(server: LiveServer) -> None:
    with PrinterEmulator() as printer:
        agent = PrintAgent(server.url, "K1", TOKEN, open_printer(printer.url))
        agent.connected.set()  # not connected: its acknowledgements go nowhere
        job = {
            "id": 7,
            "number": "A007",
            "view": {
                "hall_name": "一号人社综合服务大厅",
                "number": "A007",
                "queue_name": "综合·个人",
                "service_name": "就业登记",
                "waiting_ahead": 2,
                "est_wait_min": 9,
                "issued_at": "2026-11-20 09:00",
                "status_url": "http://127.0.0.1/t/abc",
            },
            "layout": {"paper_mm": 58, "chinese": "gb18030", "qr": "native"},
        }
        agent.handle(job)
        agent.handle(job)  # sent again: not acknowledged in time
        printed = tickets_printed(printer, 1)
        time.sleep(0.3)
        assert len([item for item in printer.connections if CUT in item]) == 1
        assert b"A007" in printed[0]
        agent.driver.close()


def test_agent_with_a_wrong_token_is_refused(server: LiveServer, tmp_path: Path) -> None:
    import socketio

    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            server.url,
            namespaces=["/kiosk"],
            auth={"kiosk": "K1", "token": "wrong"},
            transports=["websocket"],
            wait_timeout=5,
        )
    client.disconnect()
