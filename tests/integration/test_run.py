"""`python run.py` from outside: its refusals, and a hall screen on a real WebSocket."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.live_server import ROOT, LiveServer, free_port


def run_py(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_refuses_demo_passwords_off_loopback(tmp_path: Path) -> None:
    everywhere = "0.0.0.0"  # noqa: S104 - the refusal is the point
    result = run_py("--host", everywhere, "--database", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert result.returncode == 2
    assert "demo password" in result.stderr
    assert "clerk01" in result.stderr


def test_refuses_a_rehearsal_clock_off_loopback(tmp_path: Path) -> None:
    everywhere = "0.0.0.0"  # noqa: S104 - the refusal is the point
    result = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--host", everywhere]
        + ["--database", f"sqlite:///{tmp_path / 'x.sqlite3'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "YIHAO_CLOCK_SCALE": "60"},
    )
    assert result.returncode == 2
    assert "rehearsal's hall clock" in result.stderr


def test_bad_hall_file_is_explained(tmp_path: Path) -> None:
    hall = tmp_path / "hall.yaml"
    hall.write_text(
        "sites:\n  - code: main\n    name: x\n    queues: [{code: A, name: a, prefix: A}]\n"
        "    services: [{code: s, name: s, category: comprehensive}]\n"
        "    counters: [{number: 1, name: c, queues: [Z]}]\n",
        encoding="utf-8",
    )
    result = run_py("--config", str(hall), "--database", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert result.returncode == 2
    assert "unknown queue 'Z'" in result.stderr
    missing = run_py("--config", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2
    assert "cannot read hall file" in missing.stderr


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("YIHAO_TOKEN_MAX_AGE_S", "twelve hours", "token_max_age_s"),
        ("YIHAO_ASYNC_MODE", "eventlet", "async_mode"),
        ("YIHAO_PUBLISH_INTERVAL_S", "-1", "publish_interval_s"),
        ("YIHAO_CLOCK_SCALE", "0", "clock_scale"),
        ("YIHAO_CLOCK_START", "2026-12-01T09:00:00", "clock_start"),  # no offset
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = run_py("--database", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_that_refuses_is_one_line_and_exit_2() -> None:
    """D13: PostgreSQL refusing connections at start is one line, never a traceback."""
    url = f"postgresql://yihao:secret@127.0.0.1:{free_port()}/yihao"
    result = run_py("--database", url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("yihao: cannot use the database postgresql://yihao:***@127.0.0.1")
    assert "secret" not in result.stderr


def test_a_message_queue_that_refuses_is_a_warning_and_a_degraded_start(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with LiveServer(tmp_path, "--message-queue", url, "--no-scheduler") as server:
        health = server.get("/healthz").json()
        assert health == {"status": "degraded", "database": "ok", "message_queue": "down"}
        assert server.login("manager")
    log = server.log_path.read_text(errors="replace")
    assert log.count("cannot be reached") == 1
    assert "Traceback" not in log


def test_help_lists_every_option() -> None:
    result = run_py("--help")
    for option in (
        "--host",
        "--port",
        "--config",
        "--database",
        "--message-queue",
        "--no-scheduler",
        "--public-url",
        "--printer",
    ):
        assert option in result.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("run")
    with LiveServer(workdir, "--no-scheduler", "--public-url", "http://hall.example:8080") as live:
        yield live


def test_a_hall_screen_gets_each_call_over_websocket(server: LiveServer) -> None:
    calls: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    arrived = threading.Event()
    screen = socketio.Client(reconnection=False)
    screen.on("snapshot", snapshots.append, namespace="/display")

    def on_call(payload: dict[str, Any]) -> None:
        calls.append({**payload, "received": time.perf_counter()})
        arrived.set()

    screen.on("call", on_call, namespace="/display")
    screen.connect(server.url + "?site=main", namespaces=["/display"], transports=["websocket"])
    try:
        ticket = server.post("/api/v1/tickets", {"service": "employment"}).json()["ticket"]
        assert ticket["status_url"] == f"http://hall.example:8080/t/{ticket['id']}"
        token = server.login("clerk05")
        assert server.post("/api/v1/counters/5/sign-in", token=token).status_code == 200
        sent = time.perf_counter()
        assert server.post("/api/v1/counters/5/call-next", token=token).status_code == 200
        assert arrived.wait(2), "the call reached the screen within 2 s"
    finally:
        screen.disconnect()
    call = calls[0]
    assert call["text"] == f"请{ticket['number']}号到5号窗口办理"
    assert call["speech"].startswith("请 A 零 零")
    assert call["reason"] is None
    assert call["seq"] > snapshots[0]["seq"]
    assert ticket["id"] not in str(call)
    assert call["received"] - sent < 2


def test_run_py_as_it_comes_is_the_production_server(server: LiveServer) -> None:
    """`python run.py` with no mode option serves under gevent: not Werkzeug's development
    server, and none of its warnings."""
    response = server.get("/healthz")
    assert response.status_code == 200
    assert "Werkzeug" not in response.headers.get("Server", "")
    log = server.log_path.read_text(errors="replace")
    assert "Yihao serving on" in log
    assert "development server" not in log
    assert "werkzeug" not in log.lower()


def test_healthz_and_demo_login_through_http(server: LiveServer) -> None:
    assert server.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "message_queue": None,
    }
    assert server.login("admin")
