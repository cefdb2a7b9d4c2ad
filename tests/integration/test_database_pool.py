"""The PostgreSQL pool's disconnect handling (db.py): a connection back in the pool a
moment ago is used without a ping (a round trip on every request before), and one that sat
idle is pinged, so a connection the database cut meanwhile is replaced before a request
meets it. Real PostgreSQL: the pings are counted around the dialect's own `do_ping`, which
still runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from queue_server.db import PING_IDLE_AFTER_S, make_engine
from tests.conftest import IN_CI, POSTGRES_URL

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true needs YIHAO_TEST_POSTGRES_URL: PostgreSQL tests must run in CI")
        pytest.skip("needs YIHAO_TEST_POSTGRES_URL")
    engine = make_engine(POSTGRES_URL)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry a ping the pool sends (the real ping runs)."""
    sent: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        sent.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return sent


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        pid: int = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def test_a_connection_back_a_moment_ago_is_used_without_a_ping(
    engine: Engine, pings: list[int]
) -> None:
    first = backend_pid(engine)  # a new connection: nothing to ping
    for _ in range(20):
        assert backend_pid(engine) == first
    assert pings == []
    time.sleep(PING_IDLE_AFTER_S + 0.2)
    assert backend_pid(engine) == first  # pinged, alive, kept
    assert len(pings) == 1


def test_a_connection_cut_while_idle_is_replaced_before_a_request_meets_it(
    engine: Engine, pings: list[int]
) -> None:
    cut = backend_pid(engine)
    assert POSTGRES_URL is not None
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (cut,))
    time.sleep(PING_IDLE_AFTER_S + 0.2)
    # The request's statement runs on a new connection: the ping found the cut one.
    assert backend_pid(engine) != cut
    assert len(pings) == 1
