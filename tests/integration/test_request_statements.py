"""The statements of the requests a busy hall makes most, counted on SQLite and PostgreSQL:
each is a round trip on PostgreSQL, and on two shared cores a switch to the database's
process and back (docs/PERFORMANCE.md, run L). A change that adds one to these paths
shows here; `python -m bench.request_cost` gives their time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.conftest import Staff

# What each request runs (run L): SQLite also counts its BEGIN (IMMEDIATE for a write, as
# db.py emits it), which PostgreSQL's driver sends itself. No ping: a pooled connection used
# within the second is not pinged (run M; each request pinged once or twice before). On
# PostgreSQL a commit numbers and inserts its events in one statement (run N).
BUDGET = {
    "sqlite": {"issue": 9, "call-next": 12, "finish": 11, "token": 2},
    "postgresql": {"issue": 7, "call-next": 9, "finish": 8, "token": 1},
}


def test_the_hot_requests_keep_their_statements(
    app: Flask,
    client: FlaskClient,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    yihao = app.extensions["yihao"]
    budget = BUDGET[yihao.engine.dialect.name]
    clerk = clerk_at(1)
    for _ in range(5):
        make_ticket()
    # As a served hall: requests read the boards the publisher keeps, never make one.
    yihao.hall.estimates.background = True
    statements: list[str] = []
    event.listen(yihao.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    # The pool's pings are round trips too (db.py): counted as statements, around the real one.
    ping = yihao.engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        statements.append("ping")
        return ping(dbapi_connection)

    monkeypatch.setattr(yihao.engine.dialect, "do_ping", counted_ping)

    def count(request: Callable[[], Any]) -> int:
        statements.clear()
        answer = request()
        assert answer.status_code in (200, 201), answer.json
        return len(statements)

    issued = count(lambda: client.post("/api/v1/tickets", json={"service": "employment"}))
    called = count(lambda: clerk.counter(1, "call-next"))
    finished = count(lambda: clerk.counter(1, "finish"))
    statements.clear()
    yihao.staff.user_for_token(clerk.token)
    checked = len(statements)

    measured = {"issue": issued, "call-next": called, "finish": finished, "token": checked}
    assert measured == budget
