"""psycopg under gevent waits on the hub's own socket watchers (green_postgres.py), not on
gevent's emulation of `select.poll`: on real PostgreSQL, in a process gevent patched as
`python run.py` does (the probe), every wait goes through it, greenlets still run while a
query waits, a query bigger than the socket's buffer is sent whole, and a backend cut
mid-query ends the wait with psycopg's error."""

from __future__ import annotations

import psycopg.waiting
import pytest

from queue_server import green_postgres
from tests.conftest import IN_CI, POSTGRES_URL
from tests.live_server import run_probe

pytestmark = pytest.mark.postgres


def test_under_gevent_psycopg_waits_on_the_hub() -> None:
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true needs YIHAO_TEST_POSTGRES_URL: PostgreSQL tests must run in CI")
        pytest.skip("needs YIHAO_TEST_POSTGRES_URL")
    report = run_probe("tests.integration.green_postgres_probe", POSTGRES_URL)
    assert report["installed"], "make_engine under gevent installs wait_on_the_hub"
    assert report["answer"] == 42
    # psycopg still reaches its wait through `psycopg.waiting.wait`: if an upgrade binds it
    # elsewhere, this count falls to 0 and the seam is gone.
    assert report["waits"] >= 1
    assert report["two_sleeps_s"] < 0.9, "two half-second queries overlap"
    assert report["ticks_meanwhile"] >= 20, "other greenlets ran while the queries waited"
    assert report["big_length"] == 20_000_000
    assert report["big_waits_for_both"] >= 1, "the send waited to write and to read at once"
    assert report["terminated"] == "AdminShutdown"
    assert report["terminated_after_s"] < 5


def test_without_gevent_psycopg_keeps_its_own_wait() -> None:
    """The test process is not patched: psycopg's C wait stays (threading mode, SQLite runs)."""
    before = psycopg.waiting.wait
    assert green_postgres.install_if_gevent() is False
    assert psycopg.waiting.wait is before
    assert before is not green_postgres.wait_on_the_hub
