"""The print queue against a real TCP printer (tests/printer_emulator.py): jobs are rows in
the ticket's transaction, printed after commit off the request path, retried for about a
minute, then given up with a manager alert and printed only on request."""

from __future__ import annotations

import copy
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import event, select, update

from queue_server.config import parse_hall
from queue_server.domain.events import PrintJobQueued
from queue_server.models import PrintJob
from tests.conftest import FakeClock, Staff
from tests.live_server import LiveServer, free_port
from tests.printer_emulator import PrinterEmulator
from ticket_printer.worker import PrintWorker

CUT = b"\x1dV"
HALL_NAME = "一号人社综合服务大厅".encode("gb18030")


@pytest.fixture
def printer() -> Iterator[PrinterEmulator]:
    with PrinterEmulator() as emulator:
        yield emulator


@pytest.fixture
def printing_app(make_app: Callable[..., Flask], printer: PrinterEmulator) -> Flask:
    return make_app(PRINTER=printer.url, PRINTER_TIMEOUT_S=1.0)


def worker_of(app: Flask) -> PrintWorker:
    """This app's print worker, run by hand (the tests' apps start no background tasks)."""
    extension = app.extensions["yihao"]
    if extension.print_worker is None:
        extension.print_worker = PrintWorker(extension)
    worker: PrintWorker = extension.print_worker
    return worker


def issue(app: Flask, **fields: Any) -> Any:
    body = {"service": "employment", "kiosk": "K1", **fields}
    return app.test_client().post("/api/v1/tickets", json=body)


def jobs_of(app: Flask) -> list[PrintJob]:
    with app.extensions["yihao"].sessions() as session:
        return list(session.scalars(select(PrintJob).order_by(PrintJob.id)))


def manager_socket(app: Flask, login: Callable[[str], Staff]) -> Any:
    socketio = app.extensions["yihao"].socketio
    client = socketio.test_client(app, namespace="/manager", auth={"token": login("manager").token})
    client.get_received("/manager")
    return client


def alerts(client: Any) -> list[dict[str, Any]]:
    return [
        message["args"][0]
        for message in client.get_received("/manager")
        if message["name"] == "alert"
    ]


def test_job_arrives_with_the_ticket_number(printing_app: Flask, printer: PrinterEmulator) -> None:
    response = issue(printing_app)
    assert response.status_code == 201
    number = response.json["ticket"]["number"]
    assert [job.state for job in jobs_of(printing_app)] == ["queued"]

    assert worker_of(printing_app).run_due() == 1

    connections = printer.wait_for_connections(1)
    ticket = next(job for job in connections if CUT in job)
    assert number.encode() in ticket
    assert HALL_NAME in ticket
    assert b"\x1d(k" in ticket  # the native QR code of the status page
    assert printer.status_requests  # status asked before sending
    [job] = jobs_of(printing_app)
    assert job.state == "printed"
    assert job.attempts == 1
    assert job.printed_at is not None
    assert worker_of(printing_app).run_due() == 0  # printed once


def test_no_kiosk_no_job(printing_app: Flask) -> None:
    assert issue(printing_app, kiosk=None).status_code == 201
    assert jobs_of(printing_app) == []


def test_a_job_is_printed_once_by_two_processes(
    make_app: Callable[..., Flask], printer: PrinterEmulator
) -> None:
    first = make_app(PRINTER=printer.url)
    second = make_app(PRINTER=printer.url)  # another process on the same database
    for _ in range(6):
        assert issue(first).status_code == 201
    workers = [worker_of(first), worker_of(second)]
    threads = [threading.Thread(target=worker.run_due) for worker in workers for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tickets = [job for job in printer.connections if CUT in job]
    assert len(tickets) == 6
    numbers = sorted(f"A{index:03d}".encode() for index in range(1, 7))
    assert sorted(next(n for n in numbers if n in ticket) for ticket in tickets) == numbers
    assert [job.state for job in jobs_of(first)] == ["printed"] * 6


def test_printer_down_retries_then_abandons_with_alert_and_reprints(
    printing_app: Flask,
    printer: PrinterEmulator,
    clock: FakeClock,
    login: Callable[[str], Staff],
) -> None:
    board = manager_socket(printing_app, login)
    printer.stop()
    ticket = issue(printing_app).json["ticket"]
    worker = worker_of(printing_app)

    worker.run_due()
    [job] = jobs_of(printing_app)
    assert job.state == "failed"
    assert "refused" in (job.last_error or "")
    assert alerts(board) == []  # an unreachable printer is retried quietly first

    clock.advance(seconds=1)
    assert worker.run_due() == 0  # not due yet
    clock.advance(seconds=2)
    assert worker.run_due() == 1  # the retry
    assert jobs_of(printing_app)[0].attempts == 2

    clock.advance(seconds=61)
    worker.run_due()
    [job] = jobs_of(printing_app)
    assert job.state == "abandoned"
    [alert] = alerts(board)
    assert alert["kind"] == "printer"
    assert ticket["number"] in alert["message"]
    assert set(alert) >= {"seq", "kind", "message", "at"}

    printer.start()  # back on, but too late for this ticket: it is not printed by itself
    clock.advance(seconds=10)
    worker.run_due()
    assert printer.connections == []

    clerk = login("clerk01")
    response = clerk.post(f"/api/v1/tickets/{ticket['id']}/reprint", json={})
    assert response.status_code == 202, response.json
    assert response.json["ticket"]["number"] == ticket["number"]
    assert response.json["print_job"]["reprint"] is True
    worker.run_due()
    printed = [job for job in printer.wait_for_connections(1) if CUT in job]
    assert len(printed) == 1
    assert ticket["number"].encode() in printed[0]


def test_paper_out_alerts_managers_and_prints_when_refilled(
    printing_app: Flask,
    printer: PrinterEmulator,
    clock: FakeClock,
    login: Callable[[str], Staff],
) -> None:
    board = manager_socket(printing_app, login)
    printer.paper = "out"
    ticket = issue(printing_app).json["ticket"]
    worker_of(printing_app).run_due()
    assert not any(CUT in job for job in printer.connections)  # nothing sent to a dry printer
    [alert] = alerts(board)
    assert alert["kind"] == "printer"
    assert "out of paper" in alert["message"]
    assert "K1" in alert["message"]

    issue(printing_app, service="social_insurance")  # a second ticket: no second alert
    worker_of(printing_app).run_due()
    assert alerts(board) == []

    printer.paper = "ok"
    clock.advance(seconds=5)
    worker_of(printing_app).run_due()
    printed = [job for job in printer.connections if CUT in job]
    assert len(printed) == 2
    assert ticket["number"].encode() in printed[0]
    assert [job.state for job in jobs_of(printing_app)] == ["printed", "printed"]


def test_reused_ticket_prints_again_only_on_request(printing_app: Flask) -> None:
    first = issue(printing_app, phone="13800138000")
    assert first.status_code == 201
    again = issue(printing_app, phone="13800138000")
    assert again.status_code == 200
    assert again.json["reused"] is True
    assert len(jobs_of(printing_app)) == 1
    worker_of(printing_app).run_due()

    reprinted = issue(printing_app, phone="13800138000", reprint=True)
    assert reprinted.status_code == 200
    jobs = jobs_of(printing_app)
    assert [(job.state, job.reprint) for job in jobs] == [("printed", False), ("queued", True)]
    issue(printing_app, phone="13800138000", reprint=True)  # pressed twice: still one job
    assert len(jobs_of(printing_app)) == 2


def test_ticket_png(client: Any, make_ticket: Callable[..., dict[str, Any]]) -> None:
    ticket = make_ticket(kiosk="K1")
    response = client.get(f"/api/v1/tickets/{ticket['id']}/ticket.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data[:8] == b"\x89PNG\r\n\x1a\n"
    width = struct.unpack(">I", response.data[16:20])[0]
    assert width == 576  # 80 mm at 203 dpi
    narrow = client.get(f"/api/v1/tickets/{ticket['id']}/ticket.png?width=58")
    assert struct.unpack(">I", narrow.data[16:20])[0] == 384
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/tickets/{ticket_id}/ticket.png" in spec["paths"] or any(
        path.endswith("/tickets/{ticket_id}/ticket.png") for path in spec["paths"]
    )


def test_lookup_by_number_and_identity(client: Any, printing_app: Flask) -> None:
    del printing_app
    id_card = "11010519491231002X"
    ticket = client.post(
        "/api/v1/tickets", json={"service": "employment", "visitor_id": id_card}
    ).json["ticket"]
    found = client.post(
        "/api/v1/tickets/lookup", json={"number": ticket["number"].lower(), "visitor_id": id_card}
    )
    assert found.status_code == 200
    # SPEC v2: the look-up answers the reduced T, never the id that gives control
    assert found.json["ticket"]["number"] == ticket["number"]
    assert "id" not in found.json["ticket"]
    assert "status_url" not in found.json["ticket"]
    wrong = client.post(
        "/api/v1/tickets/lookup", json={"number": ticket["number"], "phone": "13800138000"}
    )
    absent = client.post("/api/v1/tickets/lookup", json={"number": "A999", "visitor_id": id_card})
    assert wrong.status_code == absent.status_code == 404
    assert wrong.json == absent.json  # a wrong identity tells nothing about the number


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"number": "A001"}, "invalid_field"),
        ({"number": "A001", "visitor_id": "110105194912310021"}, "invalid_visitor_id"),
        ({"number": "A001", "phone": "2380013800"}, "invalid_phone"),
        ({"number": "A", "phone": "13800138000"}, "invalid_field"),
        ({"number": 1, "phone": "13800138000"}, "invalid_field"),
        ({"number": "A001", "phone": "13800138000", "kiosk": "K9"}, "invalid_field"),
        ({"number": "A001", "phone": "13800138000", "reprint": True}, "invalid_field"),
        ([1, 2], "invalid_json"),
    ],
)
def test_lookup_bad_input(client: Any, body: Any, code: str) -> None:
    if body == {"number": "A001", "phone": "13800138000", "reprint": True}:
        client.post("/api/v1/tickets", json={"service": "employment", "phone": "13800138000"})
    response = client.post("/api/v1/tickets/lookup", json=body)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == code


def test_reprint_bad_input(
    client: Any, login: Callable[[str], Staff], make_ticket: Callable[..., dict[str, Any]]
) -> None:
    ticket = make_ticket(kiosk="K1")
    path = f"/api/v1/tickets/{ticket['id']}/reprint"
    assert client.post(path, json={}).status_code == 401
    clerk = login("clerk01")
    assert clerk.post(path, json={"kiosk": "K9"}).status_code == 400
    assert clerk.post(path, json={"kiosk": 5}).json["error"]["code"] == "invalid_field"
    bad_json = client.post(path, data="{", headers=clerk.headers)
    assert bad_json.status_code == 400
    assert bad_json.json["error"]["code"] == "invalid_json"
    assert clerk.post("/api/v1/tickets/nope-nope-nope/reprint", json={}).status_code == 404
    assert client.post(f"/api/v1/tickets/{ticket['id']}/cancel").status_code == 200
    cancelled = clerk.post(path, json={})
    assert cancelled.status_code == 409
    assert cancelled.json["error"]["code"] == "invalid_state"
    png = client.get(f"/api/v1/tickets/{ticket['id']}/ticket.png?width=70")
    assert png.status_code == 400
    assert client.get("/api/v1/tickets/nope-nope-nope/ticket.png").status_code == 404
    bad_reprint = client.post(
        "/api/v1/tickets", json={"service": "employment", "kiosk": "K1", "reprint": "yes"}
    )
    assert bad_reprint.status_code == 400


def test_kiosk_namespace_refuses_wrong_tokens(app: Flask) -> None:
    socketio = app.extensions["yihao"].socketio
    for auth in (None, {"kiosk": "K1", "token": "x"}, {"kiosk": "K9", "token": "x"}):
        client = socketio.test_client(app, namespace="/kiosk", auth=auth)
        assert not client.is_connected("/kiosk")


# -- a real server process ---------------------------------------------------------------


def test_live_dead_printer_never_slows_the_ticket_and_prints_when_back(tmp_path: Path) -> None:
    port = free_port()
    emulator = PrinterEmulator(port=port)  # switched off for now
    server = LiveServer(tmp_path, "--no-scheduler", "--printer", emulator.url).start()
    try:
        started = time.monotonic()
        response = server.post("/api/v1/tickets", {"service": "employment", "kiosk": "K1"})
        elapsed = time.monotonic() - started
        assert response.status_code == 201
        assert elapsed < 1.0
        number = response.json()["ticket"]["number"]

        time.sleep(1.0)  # a failed attempt or two
        emulator.start()
        connections = emulator.wait_for_connections(1, timeout=20)
        deadline = time.monotonic() + 20
        while not any(CUT in job for job in connections) and time.monotonic() < deadline:
            time.sleep(0.1)
            connections = emulator.connections
        printed = [job for job in connections if CUT in job]
        assert len(printed) == 1
        assert number.encode() in printed[0]
    finally:
        server.stop()
        emulator.stop()


def test_live_stalled_printer_never_slows_the_ticket(tmp_path: Path) -> None:
    with PrinterEmulator(stalled=True) as emulator:
        server = LiveServer(tmp_path, "--no-scheduler", "--printer", emulator.url).start()
        try:
            for _ in range(3):
                started = time.monotonic()
                response = requests.post(
                    server.url + "/api/v1/tickets",
                    json={"service": "employment", "kiosk": "K1"},
                    timeout=10,
                )
                assert response.status_code == 201
                assert time.monotonic() - started < 1.0
        finally:
            server.stop()


def test_background_worker_prints_right_after_the_commit(
    make_app: Callable[..., Flask], printer: PrinterEmulator
) -> None:
    app = make_app(PRINTER=printer.url, START_BACKGROUND=True)
    extension = app.extensions["yihao"]
    try:
        time.sleep(0.3)  # the lane's first look finds nothing and goes to sleep
        started = time.monotonic()
        number = issue(app).json["ticket"]["number"]
        connections = printer.wait_for_connections(1, timeout=5)
        deadline = time.monotonic() + 5
        while not any(CUT in job for job in connections) and time.monotonic() < deadline:
            time.sleep(0.01)
            connections = printer.connections
        assert time.monotonic() - started < 2.0  # woken by the commit, not by a poll
        assert any(number.encode() in job for job in connections)
    finally:
        extension.print_worker.stop()
        extension.publisher.stop()


def test_scheduler_job_abandons_overdue_jobs(
    printing_app: Flask, printer: PrinterEmulator, clock: FakeClock, login: Callable[[str], Staff]
) -> None:
    from queue_server.scheduler import JOBS, print_retry_job

    assert "print_retry" in {job.id for job in JOBS}
    board = manager_socket(printing_app, login)
    printer.stop()
    issue(printing_app)
    clock.advance(seconds=61)
    extension = printing_app.extensions["yihao"]
    print_retry_job(extension, clock())
    assert [job.state for job in jobs_of(printing_app)] == ["abandoned"]
    assert [alert["kind"] for alert in alerts(board)] == ["printer"]
    print_retry_job(extension, clock())  # again: nothing more
    assert alerts(board) == []


def test_the_paper_of_a_visit_names_every_business(printing_app: Flask) -> None:
    """Issue 14: a business joined to a ticket is on its reprinted paper, not only the first."""
    assert issue(printing_app, phone="13800138001").status_code == 201
    worker_of(printing_app).run_due()
    joined = issue(printing_app, phone="13800138001", service="card_services", reprint=True)
    assert joined.status_code == 200
    assert joined.json["ticket"]["services"] == ["employment", "card_services"]
    views = [job.view for job in jobs_of(printing_app)]
    assert views[0]["service_name"] == "就业登记"
    assert views[-1]["service_name"] == "就业登记、社保卡业务"


# -- the sweep: one statement for the whole deployment (issue 15) ------------------------------
@pytest.fixture
def city_printing_app(
    make_app: Callable[..., Flask], printer: PrinterEmulator, demo_hall_data: Any
) -> Flask:
    """Three sites whose K1 prints on the emulator: a small city's print worker."""
    data = copy.deepcopy(demo_hall_data)
    for code in ("north", "south"):
        site = copy.deepcopy(data["sites"][0])
        site.update(code=code, name=f"一号人社{code}大厅")
        data["sites"].append(site)
    return make_app(
        PRINTER=printer.url, PRINTER_TIMEOUT_S=1.0, HALL=parse_hall(data, source="city")
    )


def woken(worker: PrintWorker) -> set[tuple[str, str]]:
    """The lanes whose wake event is set, and clear them all."""
    found = {(lane.site.code, lane.kiosk.code) for lane in worker.lanes if lane.wake_event.is_set()}
    for lane in worker.lanes:
        lane.wake_event.clear()
    return found


def query_plan(engine: Any, statement: str, parameters: Any) -> str:
    """How the database runs a statement (sequential scans off on PostgreSQL, whose planner
    reads a table this small whole)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            prefix = "EXPLAIN QUERY PLAN "
        else:
            connection.exec_driver_sql("SET enable_seqscan = off")
            prefix = "EXPLAIN "
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    return "\n".join(" ".join(str(cell) for cell in row) for row in rows)


def lane(worker: PrintWorker, site: str) -> Any:
    return worker.lane("K1", site)


def test_a_queued_job_wakes_its_own_kiosk_only(city_printing_app: Flask) -> None:
    """A city's ticket woke every lane of the deployment, each of which then asked the
    database; now only its kiosk's lane is woken."""
    worker = worker_of(city_printing_app)
    assert {(lane.site.code, lane.kiosk.code) for lane in worker.lanes} == {
        ("main", "K1"),
        ("north", "K1"),
        ("south", "K1"),
    }
    woken(worker)
    worker.job_queued(PrintJobQueued("north", "K1", 1))
    assert woken(worker) == {("north", "K1")}
    worker.job_queued(PrintJobQueued("north", "K9", 2))  # a kiosk this worker does not drive
    assert woken(worker) == set()


def test_the_sweep_asks_once_and_wakes_only_kiosks_with_work(
    city_printing_app: Flask, printer: PrinterEmulator, clock: FakeClock
) -> None:
    worker = worker_of(city_printing_app)
    statements: list[tuple[str, Any]] = []
    engine = city_printing_app.extensions["yihao"].engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2:4]))
    worker.sweep()
    assert woken(worker) == set()
    [sweep] = [row for row in statements if row[0] != "BEGIN"]  # three sites, one statement
    assert "ix_print_jobs_pending" in query_plan(engine, *sweep)

    # A job nobody told this process of (another process's commit): the sweep finds it.
    number = issue(city_printing_app, site="south").json["ticket"]["number"]
    woken(worker)
    worker.sweep()
    assert woken(worker) == {("south", "K1")}
    assert lane(worker, "south").run_once() == 1
    assert any(number.encode() in job for job in printer.wait_for_connections(1))
    worker.sweep()
    assert woken(worker) == set()  # printed: nothing left

    # A failed job is woken for when its retry falls due, not before.
    printer.stop()
    issue(city_printing_app, site="north")
    assert lane(worker, "north").run_once() == 1
    worker.sweep()
    assert woken(worker) == set()
    clock.advance(seconds=3)
    worker.sweep()
    assert woken(worker) == {("north", "K1")}

    # A claim nobody acknowledged (a worker that died while printing) wakes its kiosk, which
    # gives it up once its window has passed.
    with city_printing_app.extensions["yihao"].sessions() as session:
        session.execute(update(PrintJob).values(state="printing", claimed_at=clock()))
        session.commit()
    worker.sweep()
    assert woken(worker) == set()
    clock.advance(seconds=61)
    worker.sweep()
    assert woken(worker) == {("north", "K1"), ("south", "K1")}
    lane(worker, "north").run_once()
    assert {job.state for job in jobs_of(city_printing_app) if job.site_code == "north"} == {
        "abandoned"
    }


def test_the_dispatcher_is_woken_for_its_own_agents_only(
    make_app: Callable[..., Flask], printer: PrinterEmulator, demo_hall_data: Any, clock: FakeClock
) -> None:
    """The agents' dispatcher sleeps like the lanes: a job wakes it for its own kiosk, and
    the sweep for a job an agent has not acknowledged (sent again after AGENT_RESEND_S)."""
    data = copy.deepcopy(demo_hall_data)
    north = copy.deepcopy(data["sites"][0])
    north.update(code="north", name="一号人社北区大厅")
    north["kiosks"] = [{"code": "K1", "name": "北区取号机", "agent_token": "north-agent-token"}]
    data["sites"].append(north)
    app = make_app(PRINTER=printer.url, HALL=parse_hall(data, source="agents"))
    worker = worker_of(app)
    dispatcher = worker.dispatcher
    assert dispatcher.kiosks == {("north", "K1")}

    worker.job_queued(PrintJobQueued("main", "K1", 1))  # a lane's, not an agent's
    assert (dispatcher.due, dispatcher.wake_event.is_set()) == (set(), False)
    issue(app, site="north")  # nobody told: the app's worker has not started
    worker.sweep()
    assert (dispatcher.due, dispatcher.wake_event.is_set()) == ({("north", "K1")}, True)

    assert dispatcher.run_once(dispatcher.due) == 1  # sent, waiting for the agent's ack
    dispatcher.due.clear()
    dispatcher.wake_event.clear()
    worker.sweep()
    assert dispatcher.due == set()
    clock.advance(seconds=11)
    worker.sweep()
    assert dispatcher.due == {("north", "K1")}
    assert dispatcher.run_once(dispatcher.due) == 1  # the same job, sent again
