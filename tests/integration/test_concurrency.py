"""Many threads at once, on a SQLite file and on PostgreSQL: no duplicate number, no gap,
no ticket called by two counters."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from tests.conftest import Staff

ISSUERS, TICKETS_EACH = 16, 40


def issue_many(app: Flask, count: int, body: dict[str, Any]) -> list[str]:
    client = app.test_client()
    numbers = []
    for _ in range(count):
        response = client.post("/api/v1/tickets", json=body)
        assert response.status_code == 201, response.json
        numbers.append(response.json["ticket"]["number"])
    return numbers


def test_sixteen_kiosks_get_a001_to_a640(app: Flask) -> None:
    with ThreadPoolExecutor(ISSUERS) as pool:
        batches = list(
            pool.map(
                lambda _: issue_many(app, TICKETS_EACH, {"service": "employment"}), range(ISSUERS)
            )
        )
    numbers = [number for batch in batches for number in batch]
    assert sorted(numbers) == [f"A{index:03d}" for index in range(1, ISSUERS * TICKETS_EACH + 1)]
    for batch in batches:  # each kiosk's own numbers rise
        assert batch == sorted(batch)


def test_six_clerks_race_and_call_each_ticket_once(app: Flask, login: Any) -> None:
    total = 120
    issue_many(app, total, {"service": "social_insurance"})
    clerks = []
    for number in range(1, 7):
        clerk: Staff = login(f"clerk{number:02d}")
        assert clerk.counter(number, "sign-in").status_code == 200
        clerks.append((number, clerk.token))

    def work(counter_and_token: tuple[int, str]) -> list[str]:
        counter, token = counter_and_token
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        called = []
        while True:
            response = client.post(f"/api/v1/counters/{counter}/call-next", headers=headers)
            assert response.status_code == 200, response.json
            ticket = response.json["ticket"]
            if ticket is None:
                return called
            called.append(ticket["number"])
            finished = client.post(f"/api/v1/counters/{counter}/finish", headers=headers)
            assert finished.status_code == 200, finished.json

    with ThreadPoolExecutor(6) as pool:
        per_clerk = list(pool.map(work, clerks))
    calls = Counter(number for called in per_clerk for number in called)
    assert len(calls) == total
    assert set(calls.values()) == {1}


def test_one_visitor_asking_twice_at_once_gets_one_ticket(app: Flask) -> None:
    body = {"service": "employment", "phone": "13912345678"}

    def ask(_: int) -> tuple[int, str]:
        response = app.test_client().post("/api/v1/tickets", json=body)
        return response.status_code, response.json["ticket"]["number"]  # reused: no id (v2)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert len({number for _, number in answers}) == 1
    assert sorted(status for status, _ in answers) == [200] * 7 + [201]
