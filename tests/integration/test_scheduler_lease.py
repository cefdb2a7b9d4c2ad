"""Several processes, one scheduler: the process holding the database lease runs the jobs;
kill it and another takes the lease over (here within seconds; by default within a minute)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select

from queue_server.db import normalise_url
from queue_server.models import SchedulerLease
from tests.conftest import IN_CI, POSTGRES_URL, reset_postgres
from tests.live_server import LiveServer

pytestmark = pytest.mark.postgres


def lease_holder(url: str) -> tuple[str, datetime] | None:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            row = connection.execute(
                select(SchedulerLease.holder, SchedulerLease.expires_at)
            ).first()
    finally:
        engine.dispose()
    return (row.holder, row.expires_at) if row else None


def wait_for_holder(url: str, pids: set[int], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = lease_holder(url)
        if found:
            pid = int(found[0].rsplit(":", 1)[1])
            if pid in pids and found[1].replace(tzinfo=found[1].tzinfo or UTC) > datetime.now(UTC):
                return pid
        time.sleep(0.2)
    raise AssertionError(f"no live holder among {pids} within {timeout} s: {lease_holder(url)}")


@pytest.fixture
def two_schedulers(tmp_path: object) -> Iterator[list[LiveServer]]:
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true needs YIHAO_TEST_POSTGRES_URL for the scheduler lease test")
        pytest.skip("needs YIHAO_TEST_POSTGRES_URL")
    reset_postgres(POSTGRES_URL)
    env = {"YIHAO_SCHEDULER_LEASE_S": "3"}
    servers = [LiveServer(tmp_path, database=POSTGRES_URL, env=env).start()]  # type: ignore[arg-type]
    servers.append(LiveServer(tmp_path, database=POSTGRES_URL, env=env).start())  # type: ignore[arg-type]
    yield servers
    for server in servers:
        server.stop()


def test_one_holder_and_takeover_when_it_dies(two_schedulers: list[LiveServer]) -> None:
    assert POSTGRES_URL
    pids = {server.process.pid for server in two_schedulers if server.process}
    holder = wait_for_holder(POSTGRES_URL, pids, timeout=10)
    # It keeps renewing while alive: still the same holder after more than one lease time.
    time.sleep(4)
    assert wait_for_holder(POSTGRES_URL, pids, timeout=5) == holder
    dead = next(
        server for server in two_schedulers if server.process and server.process.pid == holder
    )
    os.kill(holder, signal.SIGKILL)  # no goodbye: the lease must simply run out
    dead.process.wait(timeout=10)  # type: ignore[union-attr]
    dead.process = None
    started = time.monotonic()
    successor = wait_for_holder(POSTGRES_URL, pids - {holder}, timeout=60)
    assert successor != holder
    assert time.monotonic() - started < timedelta(minutes=1).total_seconds()
