"""The estimator wired into T (SPEC §4, §10; docs/estimates.md "Wiring"): the scheduled job
stores the learned service times, every process reloads them, T's estimate and range are
the estimator's, and issuing a ticket never runs the estimator in a served hall."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from queue_server.app_context import Yihao
from queue_server.domain.estimates import WALK_PRIOR_S, estimate_waits, joining
from queue_server.models import EstimateModel
from queue_server.scheduler import JOBS, service_times_job
from queue_server.services import estimates as estimates_service
from queue_server.services.estimates import EstimateCache, hall_now
from queue_server.services.unit_of_work import UnitOfWork
from tests.conftest import FakeClock, Staff

ClerkAt = Callable[[int], Staff]


def yihao_of(app: Flask) -> Yihao:
    extension: Yihao = app.extensions["yihao"]
    return extension


def issue(client: FlaskClient, service: str = "employment") -> dict[str, Any]:
    response = client.post("/api/v1/tickets", json={"service": service})
    assert response.status_code == 201, response.json
    ticket: dict[str, Any] = response.json["ticket"]
    return ticket


def serve_some(client: FlaskClient, clerk_at: ClerkAt, clock: FakeClock, minutes: float) -> None:
    """Three visitors served at counter 1, each `minutes` long."""
    clerk = clerk_at(1)
    for _ in range(3):
        issue(client)
    for _ in range(3):
        clerk.counter(1, "call-next")
        clock.advance(minutes=minutes)
        clerk.counter(1, "finish")
    clerk.counter(1, "sign-out")


def test_the_job_has_a_fixed_id() -> None:
    assert [job.id for job in JOBS].count("service_times") == 1


def test_the_job_stores_the_model_and_processes_reload_it(
    app: Flask, client: FlaskClient, clerk_at: ClerkAt, clock: FakeClock
) -> None:
    yihao = yihao_of(app)
    site = yihao.hall.config.sites[0]
    other_process = EstimateCache()  # another process's copy
    before = yihao.read(site, other_process.model)
    assert before.samples == 0  # configured durations until the first run
    assert before.table("employment", 9).at(0.5) == pytest.approx(
        (site.service("employment").service_s or site.policy.default_service_s) + WALK_PRIOR_S,
        rel=0.01,
    )  # the configured duration and the walk from the seats it leaves out

    serve_some(client, clerk_at, clock, minutes=12)
    other_process.forget_model(site.code)
    assert yihao.read(site, other_process.model).samples == 0  # the job has not run yet
    service_times_job(yihao, clock())
    service_times_job(yihao, clock())  # a second run overwrites: one row
    with yihao.sessions() as session:
        rows = session.scalars(select(EstimateModel)).all()
    assert [row.site_code for row in rows] == [site.code]
    assert rows[0].model["samples"] == 3

    # Within a minute of the hall clock the other process keeps its copy; then it reloads
    # the stored one.
    clock.advance(seconds=estimates_service.MODEL_MAX_AGE_S - 1)
    assert yihao.read(site, other_process.model).samples == 0
    clock.advance(seconds=2)
    learned = yihao.read(site, other_process.model)
    assert learned.samples == 3
    assert learned.table("employment", 9).at(0.5) > before.table("employment", 9).at(0.5)


def test_t_gives_the_estimators_numbers_for_a_known_hall(
    app: Flask, client: FlaskClient, clerk_at: ClerkAt, clock: FakeClock
) -> None:
    yihao = yihao_of(app)
    site = yihao.hall.config.sites[0]
    clerk_at(1)
    clerk_at(2)
    tickets = [issue(client) for _ in range(6)]
    clerk_at(1).counter(1, "call-next")
    clock.advance(minutes=2)

    def by_hand(uow: UnitOfWork) -> dict[int, Any]:
        """The estimator itself on the hall as it stands: the waiting steps, and the tickets
        about to join lines A and B as phantoms, seeded with the event seq."""
        counters, waiting, services = hall_now(uow)
        seq = uow.session.connection().scalar(estimates_service.EVENT_SEQ, {"site": site.code})
        may_wait = timedelta(minutes=20 * site.policy.max_wait_factor)
        keys = [(queue, green) for queue in ("A", "B") for green in (False, True)]
        phantoms = {estimates_service.PHANTOM_IDS + index: key for index, key in enumerate(keys)}
        joiners = [
            replace(joining(queue, uow.now, may_wait, green), step_id=number)
            for number, (queue, green) in phantoms.items()
        ]
        found = estimate_waits(
            [*(step.step_id for step in waiting), *phantoms],
            counters,
            [*waiting, *joiners],
            services,
            estimates_service.configured_for_site(site),
            uow.now,
            random.Random(seq),
            estimates_service.board_draws(len(waiting)),
            phantoms=phantoms,
        )
        return {step_id: found[step_id] for step_id in found if step_id not in phantoms}

    expected = sorted(
        (estimate.est_wait_s, estimate.range_s) for estimate in yihao.read(site, by_hand).values()
    )
    views = [client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"] for ticket in tickets]
    waiting = [view for view in views if view["state"] == "waiting"]
    assert len(waiting) == 5
    assert sorted((v["est_wait_s"], tuple(v["est_wait_range_s"])) for v in waiting) == expected
    # Later in line, later called; the range holds the estimate.
    ordered = sorted(waiting, key=lambda view: view["waiting_ahead"])
    assert [v["est_wait_s"] for v in ordered] == sorted(v["est_wait_s"] for v in ordered)
    low, high = ordered[-1]["est_wait_range_s"]
    assert low < ordered[-1]["est_wait_s"] < high
    assert ordered[0]["est_wait_s"] < 300 < ordered[-1]["est_wait_s"]


def test_issuing_never_runs_the_estimator_in_a_served_hall(
    app: Flask, client: FlaskClient, clerk_at: ClerkAt
) -> None:
    yihao = yihao_of(app)
    site = yihao.hall.config.sites[0]
    cache = yihao.hall.estimates
    cache.background = True  # as under run.py: the publisher's loop keeps the boards
    clerk_at(1)
    yihao.read(site, cache.refresh)
    runs = cache.runs
    joining = cache.board_of(site.code).joining[("A", False)]
    first = issue(client)
    assert (first["est_wait_s"], first["est_wait_range_s"]) == (
        joining.est_wait_s,
        list(joining.range_s or ()),
    )  # issued since the last run: its line's joining estimate, which is exactly its own
    burst = [issue(client) for _ in range(30)]
    step_s = cache.board_of(site.code).step_s["A"]  # mean counter time ÷ 1 open counter
    assert step_s > 60
    for ahead, ticket in enumerate(burst[:5], start=1):
        view = client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]
        # Until the loop's next tick: the joining estimate, behind the tickets issued since
        # the run (a burst faster than the boards) at the line's step_s each.
        assert view["est_wait_s"] == joining.est_wait_s + round(ahead * step_s)
        assert burst[ahead - 1]["est_wait_s"] == view["est_wait_s"]  # as it was printed
    assert cache.runs == runs  # thirty-one tickets, five look-ups: no estimator run
    yihao.read(site, cache.refresh)  # the loop's next tick: one run for the whole burst
    yihao.read(site, cache.refresh)
    assert cache.runs == runs + 1
    last = client.get(f"/api/v1/tickets/{burst[-1]['id']}").json["ticket"]
    assert last["est_wait_s"] > first["est_wait_s"]


def test_a_ticket_newer_than_the_board_counts_only_the_steps_the_board_did_not_see(
    app: Flask, client: FlaskClient, clerk_at: ClerkAt
) -> None:
    """The burst correction without a query: the board keeps how many were ahead of each
    line's joiner and the tickets in hand; a newer step adds `step_s` for each step ahead
    of it now (T's own `waiting_ahead`) or called since, beyond the joiner's count."""
    yihao = yihao_of(app)
    site = yihao.hall.config.sites[0]
    cache = yihao.hall.estimates
    cache.background = True
    clerk = clerk_at(1)
    seen = [issue(client), issue(client)]
    board = yihao.read(site, cache.refresh)
    assert board.joining_ahead[("A", False)] == 2
    joining = board.joining[("A", False)]
    step_s = board.step_s["A"]
    third, fourth = issue(client), issue(client)
    assert (third["waiting_ahead"], third["est_wait_s"]) == (2, joining.est_wait_s)
    assert (fourth["waiting_ahead"], fourth["est_wait_s"]) == (
        3,
        joining.est_wait_s + round(step_s),
    )
    # A call since the run: one ahead fewer, but at the counter still (what the COUNT of
    # newer steps ahead said before, the same figure).
    called = clerk.counter(1, "call-next").json
    assert called["ticket"]["number"] == seen[0]["number"]
    fourth = client.get(f"/api/v1/tickets/{fourth['id']}").json["ticket"]
    assert (fourth["waiting_ahead"], fourth["est_wait_s"]) == (
        2,
        joining.est_wait_s + round(step_s),
    )
    assert cache.board_of(site.code) is board  # no run meanwhile


def test_a_counter_freed_since_the_board_calls_the_next_ticket_at_once(
    app: Flask, client: FlaskClient, clerk_at: ClerkAt, clock: FakeClock
) -> None:
    """The board was made while counter 1 had a visitor (the joiner waits for them); the
    clerk finished since and nobody waits: the next ticket is called at once, and its paper
    and phone page say so now, not after the loop's next tick (CI's e2e
    test_the_kiosk_never_says_about_0_minutes printed "About 6 minutes" there)."""
    yihao = yihao_of(app)
    site = yihao.hall.config.sites[0]
    cache = yihao.hall.estimates
    cache.background = True
    clerk = clerk_at(1)
    issue(client)
    clerk.counter(1, "call-next")
    board = yihao.read(site, cache.refresh)
    assert board.joining[("A", False)].est_wait_s > 0  # behind the visitor at counter 1
    waiting = issue(client)
    assert waiting["est_wait_s"] > 0
    clock.advance(minutes=1)
    clerk.counter(1, "finish")
    ticket = issue(client)
    assert cache.board_of(site.code) is board  # no run meanwhile
    # The earlier one is called first: the new one waits still, the earlier one does not.
    assert (ticket["waiting_ahead"], ticket["est_wait_s"] > 0) == (1, True)
    view = client.get(f"/api/v1/tickets/{waiting['id']}").json["ticket"]
    assert (view["waiting_ahead"], view["est_wait_s"], view["est_wait_range_s"]) == (
        0,
        0,
        [0, 0],
    )
    clerk.counter(1, "call-next")
    clerk.counter(1, "finish")
    # Nobody ahead, counter 1 free: at once, though the board still says otherwise.
    view = client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]
    assert (view["waiting_ahead"], view["est_wait_s"]) == (0, 0)
    assert cache.board_of(site.code) is board


def test_a_line_with_no_counter_open_has_no_estimate(client: FlaskClient) -> None:
    ticket = issue(client)
    assert (ticket["line_open"], ticket["est_wait_s"], ticket["est_wait_range_s"]) == (
        False,
        None,
        None,
    )
    lines = {line["code"]: line for line in client.get("/api/v1/queues").json}
    assert lines["A"]["est_wait_s"] is None


def test_an_idle_publisher_tick_reads_every_sites_seq_in_one_statement(
    make_app: Callable[..., Flask], tmp_path: Any
) -> None:
    """The loop runs 4×/s: with 200 sites it used to open a session and read a seq per site
    (800 reads a second); now one statement tells which boards are stale."""
    from sqlalchemy import event

    from bench.city import write_city_hall

    app = make_app(CONFIG=str(write_city_hall(tmp_path / "city.yaml", sites=12)))
    yihao = yihao_of(app)
    publisher = yihao.publisher
    assert publisher is not None
    assert publisher.refresh_estimates() == {site.code for site in yihao.hall.config.sites}
    publisher.flush()  # each site pushed once at its seq
    statements: list[str] = []
    event.listen(yihao.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert publisher.refresh_estimates() == set(), "nothing changed: no push, no board"
    assert len([text for text in statements if "site_sequences" in text]) == 1
    assert len(statements) <= 2, statements  # (SQLite: the read's BEGIN)
