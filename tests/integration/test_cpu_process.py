"""The wait estimator and the what-if simulator in a process of their own
(queue_server/realtime/cpu_process.py): the same board and the same what-if as in the
server, the real exception when a call fails, a dead child replaced, and `python run.py`
as it comes computing its boards there (issue 15)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from queue_server.domain.lifecycle import Action, LifecycleError, ticket_after
from queue_server.manager import whatif
from queue_server.realtime.cpu_process import CpuProcess
from queue_server.services.estimates import Board, compute_board
from tests.conftest import FakeClock, Staff
from tests.integration.test_whatif import record_a_day
from tests.live_server import LiveServer, alive, child_pids


@pytest.fixture
def cpu() -> Iterator[CpuProcess]:
    process = CpuProcess()
    yield process
    process.stop()


def children_running(parent: int, module: str = "queue_server.realtime.cpu_process") -> list[int]:
    """Pids of `parent`'s running children started with `python -m module`."""
    found = []
    for pid in child_pids(parent):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        if module.encode() in command:
            found.append(pid)
    return found


def board_of(app: Flask, offload: CpuProcess | None) -> Board:
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.sites[0]
    cache = yihao.hall.estimates
    return yihao.read(site, lambda uow: compute_board(uow, cache.model(uow), 7, offload=offload))


def test_the_child_makes_the_same_board(
    app: Flask, cpu: CpuProcess, login: Callable[[str], Staff]
) -> None:
    assert login("clerk01").post("/api/v1/counters/1/sign-in").status_code == 200
    client = app.test_client()
    for _ in range(40):
        assert client.post("/api/v1/tickets", json={"service": "employment"}).status_code == 201
    here = board_of(app, None)
    there = board_of(app, cpu)
    assert len(there.steps) == 40
    assert all(estimate.est_wait_s is not None for estimate in there.steps.values())
    assert there.steps == here.steps
    assert there.joining == here.joining
    assert cpu.calls_here == 0
    assert children_running(os.getpid()) != []


def test_only_domain_functions_cross(cpu: CpuProcess) -> None:
    with pytest.raises(ValueError, match="only the domain and the simulator"):
        cpu(os.getcwd)


def test_a_call_that_raises_there_raises_the_real_exception_here(cpu: CpuProcess) -> None:
    with pytest.raises(LifecycleError) as raised:
        cpu(ticket_after, "no-such-state", Action.CALL)
    assert raised.value.state == "no-such-state"
    assert cpu.calls_here == 1  # run again here, for its real exception
    assert cpu(ticket_after, "waiting", Action.CALL) == ticket_after("waiting", Action.CALL)
    assert cpu.calls_here == 1  # the child lives on


def test_a_dead_child_is_replaced(cpu: CpuProcess) -> None:
    expected = ticket_after("waiting", Action.CALL)
    assert cpu(ticket_after, "waiting", Action.CALL) == expected
    [first] = children_running(os.getpid())
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while first in children_running(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cpu(ticket_after, "waiting", Action.CALL) == expected  # here, or in a new child
    assert cpu(ticket_after, "waiting", Action.CALL) == expected
    [second] = children_running(os.getpid())
    assert second != first


def test_run_py_as_it_comes_makes_its_boards_in_a_child(tmp_path: Path) -> None:
    with LiveServer(tmp_path, "--no-scheduler") as server:
        assert server.process is not None
        issued = [
            requests.post(
                server.url + "/api/v1/tickets", json={"service": "employment"}, timeout=5
            ).json()["ticket"]
            for _ in range(5)
        ]
        deadline = time.monotonic() + 10
        children: list[int] = []
        while not children and time.monotonic() < deadline:
            children = children_running(server.process.pid)
            time.sleep(0.1)
        assert len(children) == 1
        last = requests.get(server.url + f"/api/v1/tickets/{issued[-1]['id']}", timeout=5)
        assert last.json()["ticket"]["waiting_ahead"] == 4
        [child] = children
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists()  # gone with its server


def test_a_what_if_in_the_child_is_the_what_if_here(
    app: Flask,
    cpu: CpuProcess,
    clock: FakeClock,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., Any],
) -> None:
    """The what-if's two simulated days cross the pipe (the hall's site, the day's visits,
    the learned times) and come back the same as run here."""
    day = record_a_day(clock, clerk_at(1), make_ticket)
    extension = app.extensions["yihao"]
    site = extension.hall.config.sites[0]
    results = []
    for offload in (None, cpu):
        run = extension.run(site, "manager", whatif.start, {"date": day, "counters": 2})
        whatif.execute(extension.sessions, site, run["id"], offload)
        done = extension.read(site, whatif.view, run["id"])
        assert done["state"] == "done", done
        results.append(done["result"])
    assert results[0] == results[1]
    assert results[1]["original"]["visitors"] == 12
    assert cpu.calls_here == 0


def test_run_py_as_it_comes_runs_a_what_if_in_a_child(tmp_path: Path) -> None:
    """A day recorded under a rehearsal clock, then its what-if asked of a server started on
    a later day: the simulation crosses to its child and back through the real API."""

    def token(server: LiveServer, username: str) -> dict[str, str]:
        response = requests.post(
            server.url + "/api/v1/auth/login",
            json={"username": username, "password": "demo"},
            timeout=5,
        )
        return {"Authorization": "Bearer " + response.json()["token"]}

    recorded = {"YIHAO_CLOCK_START": "2026-11-27T10:00:00+08:00", "YIHAO_CLOCK_SCALE": "60"}
    with LiveServer(tmp_path, "--no-scheduler", env=recorded) as server:
        clerk = token(server, "clerk01")
        post = requests.post
        assert post(server.url + "/api/v1/counters/1/sign-in", headers=clerk, timeout=5).ok
        for _ in range(8):
            post(server.url + "/api/v1/tickets", json={"service": "employment"}, timeout=5)
        for _ in range(6):
            post(server.url + "/api/v1/counters/1/call-next", headers=clerk, timeout=5)
            time.sleep(0.2)  # twelve hall-seconds at the counter
            post(server.url + "/api/v1/counters/1/finish", headers=clerk, timeout=5)
    later = {"YIHAO_CLOCK_START": "2026-11-30T10:00:00+08:00"}
    with LiveServer(tmp_path, "--no-scheduler", env=later) as server:
        manager = token(server, "manager")
        started = requests.post(
            server.url + "/api/v1/whatif",
            json={"date": "2026-11-27", "counters": 2},
            headers=manager,
            timeout=5,
        )
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            run = requests.get(
                server.url + f"/api/v1/whatif/{started.json()['run']['id']}",
                headers=manager,
                timeout=5,
            ).json()["run"]
            if run["state"] != "running":
                break
            time.sleep(0.05)
        assert (run["state"], run["error"]) == ("done", None)
        assert run["result"]["original"]["visitors"] == 8
        log = server.log_path.read_text(errors="replace")
    assert "running here" not in log  # the child answered: no call fell back to the server


def test_ctrl_c_stops_the_server_and_its_child_quietly(tmp_path: Path) -> None:
    """Ctrl+C reaches the terminal's whole process group: the server says it stopped (no
    traceback), and its estimator's child, which ignores the interrupt, ends with it."""
    with LiveServer(tmp_path, "--no-scheduler") as server:
        process = server.process
        assert process is not None
        token = server.login("clerk01")
        headers = {"Authorization": f"Bearer {token}"}
        signed_in = requests.post(
            server.url + "/api/v1/counters/1/sign-in", headers=headers, timeout=5
        )
        assert signed_in.ok
        requests.post(server.url + "/api/v1/tickets", json={"service": "employment"}, timeout=5)
        deadline = time.monotonic() + 10
        children: list[int] = []
        while not children and time.monotonic() < deadline:
            children = children_running(process.pid)
            time.sleep(0.1)
        [child] = children
        os.kill(child, signal.SIGINT)  # what the terminal sends the child too
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 130
        log = server.log_path.read_text(errors="replace")
        assert "Yihao stopped" in log
        assert "Traceback" not in log
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)
