"""A commit numbers its event-log rows after the site's last, in the order they were
recorded, with the unit of work's time and actor and each row's own fields: on SQLite in
two statements, on PostgreSQL in one (unit_of_work.py `NUMBER_AND_INSERT_EVENTS`, run N)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from queue_server.models import Event
from queue_server.services.unit_of_work import UnitOfWork, run_in_transaction

RECORDED: list[dict[str, Any]] = [
    {"kind": "issue", "to_state": "issued", "number": "A001", "words": "请A001号到1号窗口"},
    {
        "kind": "call",
        "counter_number": 3,
        "from_state": "waiting",
        "to_state": "called",
        "reason": {"rule": "fifo", "lines": ["A", "B"], "none": None, "quote": "\"'"},
    },
    {"kind": "cancel"},
]
FIELDS = ("counter_number", "from_state", "to_state")


def record_three(uow: UnitOfWork) -> None:
    for row in RECORDED:
        fields = {name: row[name] for name in FIELDS if name in row}
        detail = {name: value for name, value in row.items() if name not in (*FIELDS, "kind")}
        uow.record(row["kind"], **fields, **detail)


def site_events(app: Flask, site_code: str) -> list[Event]:
    with app.extensions["yihao"].sessions() as session:
        return list(
            session.scalars(select(Event).where(Event.site_code == site_code).order_by(Event.seq))
        )


def test_a_commit_numbers_its_events_after_the_last_in_the_order_recorded(app: Flask) -> None:
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.sites[0]
    run_in_transaction(yihao.sessions, yihao.hall, site, "before", record_three)
    before = site_events(app, site.code)[-1].seq

    _, uow = run_in_transaction(yihao.sessions, yihao.hall, site, "clerk07", record_three)

    written = site_events(app, site.code)[-3:]
    assert [event.seq for event in written] == [before + 1, before + 2, before + 3]
    assert uow.seq == before + 3
    for event, row in zip(written, RECORDED, strict=True):
        assert event.kind == row["kind"]
        assert (event.at, event.actor, event.ticket_id, event.step_id) == (
            uow.now,
            "clerk07",
            None,
            None,
        )
        assert {name: getattr(event, name) for name in FIELDS} == {
            name: row.get(name) for name in FIELDS
        }
        assert event.detail == {
            name: value for name, value in row.items() if name not in (*FIELDS, "kind")
        }


def test_a_commit_with_one_event_and_one_with_none(app: Flask) -> None:
    """One row numbers like many; a commit that records nothing leaves the sequence alone."""
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.sites[0]
    _, first = run_in_transaction(
        yihao.sessions, yihao.hall, site, "a", lambda uow: uow.record("expire")
    )
    _, nothing = run_in_transaction(yihao.sessions, yihao.hall, site, "b", lambda uow: None)
    _, second = run_in_transaction(
        yihao.sessions, yihao.hall, site, "c", lambda uow: uow.record("expire")
    )
    assert nothing.seq is None
    assert second.seq == (first.seq or 0) + 1
    assert [event.seq for event in site_events(app, site.code)][-2:] == [first.seq, second.seq]
