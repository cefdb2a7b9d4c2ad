"""The SQL count of "who is ahead" agrees with the pure call order, on random lines with
every class, ties, and overdue tickets, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from queue_server.domain.dispatch import line_order
from queue_server.models import Step, Ticket
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import HallState, business_day
from tests.conftest import START


def fill_line(app: Flask, seed: int, size: int) -> None:
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.default_site
    randomness = random.Random(seed)
    day = business_day(site, START)
    with yihao.sessions() as session:
        for index in range(size):
            ticket = Ticket(
                id=f"t{seed}-{index:04d}-xxxxxxxxxxxx",
                site_code=site.code,
                business_day=day,
                issue_queue="A",
                number=f"A{index + 1:03d}",
                service_code="employment",
                party="individual",
                headcount=1,
                priority="normal",
                state="waiting",
                current_step=1,
                issued_at=START,
            )
            session.add(ticket)
            session.flush()
            enqueued = START - timedelta(minutes=randomness.choice([1, 5, 5, 20, 45, 60]))
            sort_at = enqueued + timedelta(seconds=randomness.choice([0, 0, 30]))
            session.add(
                Step(
                    ticket_id=ticket.id,
                    site_code=site.code,
                    business_day=day,
                    position=1,
                    queue_code="A",
                    services=["employment"],
                    status="waiting",
                    priority_class=randomness.choice([0, 1, 2, 2, 2]),
                    enqueued_at=enqueued,
                    sort_at=sort_at,
                    overdue_at=enqueued + timedelta(minutes=40),
                    recalls=0,
                    keep_counter=False,
                )
            )
        session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_position_matches_call_order(app: Flask, seed: int) -> None:
    fill_line(app, seed, 40)
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.default_site

    def compare(uow: UnitOfWork) -> list[tuple[int, int]]:
        expected = line_order(HallState(uow).line("A"), uow.now)
        fresh: Any = HallState(uow)  # nothing loaded: position() counts in SQL
        return [(index, fresh.position(step.step_id, "A")) for index, step in enumerate(expected)]

    pairs = yihao.read(site, compare)
    assert len(pairs) == 40
    assert all(expected == counted for expected, counted in pairs)


@pytest.mark.parametrize("seed", [4, 5])
def test_line_head_is_the_start_of_the_call_order(app: Flask, seed: int) -> None:
    fill_line(app, seed, 30)
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.default_site

    def heads(uow: UnitOfWork) -> list[tuple[list[int], list[int]]]:
        whole = [step.step_id for step in HallState(uow).line("A")]
        return [
            (whole[:limit], [step.step_id for step in HallState(uow).line_head("A", limit)])
            for limit in (1, 3, 8, 30, 50)
        ]

    for expected, head in yihao.read(site, heads):
        assert head == expected
