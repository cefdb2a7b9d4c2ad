"""The SQL count of "who is ahead" agrees with the pure call order, on random lines with
every class, ties, and overdue tickets, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from queue_server.domain.dispatch import CounterPlan, calls_before, line_order
from queue_server.models import Counter, Step, Ticket
from queue_server.services import views
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import HallState, business_day
from tests.conftest import START


def fill_line(app: Flask, seed: int, size: int, queue: str = "A") -> None:
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.default_site
    randomness = random.Random(seed)
    day = business_day(site, START)
    with yihao.sessions() as session:
        for index in range(size):
            ticket = Ticket(
                id=f"t{seed}-{queue}{index:04d}-xxxxxxxxxxxx",
                site_code=site.code,
                business_day=day,
                issue_queue=queue,
                number=f"{queue}{index + 1:03d}",
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
                    queue_code=queue,
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


def test_line_heads_of_several_lines_are_one_query(app: Flask) -> None:
    """A counter's lines are read in one statement (a UNION ALL of each line's two indexed
    heads), each line's head still the start of its own call order, and a step kept for
    another counter left out when a counter asks."""
    for seed, queue in ((10, "A"), (11, "B"), (12, "C")):
        fill_line(app, seed, 25, queue)
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.default_site
    with yihao.sessions() as session:
        kept = session.scalars(select(Step).where(Step.queue_code == "B")).first()
        assert kept is not None
        kept.reserved_counter = 7
        kept_id = kept.id
        session.commit()
    statements: list[str] = []
    event.listen(yihao.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def heads(uow: UnitOfWork) -> tuple[dict[str, list[int]], dict[str, list[int]], int]:
        whole = {code: [step.step_id for step in HallState(uow).line(code)] for code in "ABC"}
        statements.clear()
        found = HallState(uow).line_heads(["A", "B", "C"], 8, counter=3)
        asked = len([text for text in statements if "steps" in text])
        return whole, {code: [step.step_id for step in found[code]] for code in found}, asked

    whole, found, asked = yihao.read(site, heads)
    assert asked == 1
    assert kept_id in whole["B"]
    assert found["A"] == whole["A"][:8]
    assert found["C"] == whole["C"][:8]
    assert found["B"] == [step_id for step_id in whole["B"] if step_id != kept_id][:8]


def open_counters(app: Flask, numbers: tuple[int, ...]) -> None:
    yihao = app.extensions["yihao"]
    with yihao.sessions() as session:
        for counter in session.scalars(select(Counter).where(Counter.number.in_(numbers))):
            counter.state = "open"
        session.commit()


@pytest.mark.parametrize(
    ("seed", "counters"),
    [(6, (1,)), (7, (7,)), (8, (1, 7)), (9, (1, 2, 7))],
)
def test_sql_position_across_lines_matches_the_counters_call_order(
    app: Flask, seed: int, counters: tuple[int, ...]
) -> None:
    """SPEC §4: over the open counters serving the line, the fewest tickets any one of them
    would call first on its own, across all its lines (counter 1 fifo [A, B], 7 ordered
    [B, A]): the SQL counts, the loaded lines and the pure rule agree."""
    fill_line(app, seed, 25, "A")
    fill_line(app, seed + 100, 25, "B")
    open_counters(app, counters)
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.default_site
    plans = [
        CounterPlan(counter.number, counter.queues, counter.strategy)
        for counter in site.counters
        if counter.number in counters
    ]

    counts: list[str] = []
    event.listen(
        yihao.engine,
        "before_cursor_execute",
        lambda *args: counts.append(args[2]) if "count(" in args[2] else None,
    )

    def compare(uow: UnitOfWork) -> list[tuple[int, int, int]]:
        loaded = HallState(uow)
        waiting = [step for code in ("A", "B") for step in loaded.line(code)]
        rows = []
        for step in waiting:
            serving = [plan for plan in plans if step.queue in plan.queues]
            expected = min(calls_before(step, waiting, plan, uow.now) for plan in serving)
            fresh: Any = HallState(uow)  # nothing loaded: position() counts in SQL
            before = len(counts)
            counted = fresh.position(step.step_id, step.queue)
            # Every count of every plan in one statement (one round trip a ticket).
            assert len(counts) == before + 1
            rows.append((expected, loaded.position(step.step_id, step.queue), counted))
        return rows

    rows = yihao.read(site, compare)
    assert len(rows) == 50
    assert all(expected == looked_up == counted for expected, looked_up, counted in rows)
    assert any(expected != 0 for expected, _, _ in rows)


@pytest.mark.parametrize("asked", [1, 3, 6])
def test_a_few_tickets_of_a_short_hall_read_its_lines_whole_and_get_the_counted_places(
    app: Flask, asked: int
) -> None:
    """`ticket_views` of a few tickets: where at most `ROWS_PER_COUNT` a ticket wait, every
    line is read in one statement and no place is counted; beyond, each place is counted.
    Either way each view's place is the one counted in SQL (counters 1 and 7 open, two
    lines; 50 waiting, so both ways are taken on each database)."""
    fill_line(app, 20, 25, "A")
    fill_line(app, 21, 25, "B")
    open_counters(app, (1, 7))
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.default_site
    per_count = views.ROWS_PER_COUNT[yihao.engine.dialect.name]
    statements: list[str] = []
    event.listen(yihao.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def look(uow: UnitOfWork) -> tuple[list[int], list[int], int, bool]:
        waiting = [step for code in ("A", "B") for step in HallState(uow).line(code)]
        chosen = waiting[-asked:]  # the back of the lines: every count matters
        rows = uow.session.execute(
            select(Step.id, Step.ticket_id).where(Step.id.in_([s.step_id for s in chosen]))
        )
        ticket_of = {step_id: ticket_id for step_id, ticket_id in rows}
        ids = [ticket_of[step.step_id] for step in chosen]
        # A fresh look for each: nothing loaded, so each place is counted in SQL.
        counted = [HallState(uow).position(step.step_id, step.queue) for step in chosen]
        statements.clear()
        found = views.ticket_views(uow, ids, HallState(uow))
        counts = len([text for text in statements if "count(" in text])
        places = [found[ticket_id]["waiting_ahead"] for ticket_id in ids]
        return counted, places, counts, asked * per_count >= len(waiting)

    counted, places, counts, whole = yihao.read(site, look)
    assert places == counted
    assert any(place != 0 for place in places)
    assert counts == (0 if whole else asked)
