"""Run by test_green_postgres.py as `python -m tests.integration.green_postgres_probe DB_URL`:
psycopg under gevent, as `python run.py` serves PostgreSQL, on real connections; prints one
JSON line of what it saw."""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import psycopg  # noqa: E402
import psycopg.waiting  # noqa: E402
from sqlalchemy import text  # noqa: E402

from queue_server import green_postgres  # noqa: E402
from queue_server.db import make_engine  # noqa: E402

BIG = 20_000_000  # characters: far beyond a socket's buffer, so the send must wait to write


def main(database_url: str) -> dict[str, Any]:
    engine = make_engine(database_url)
    report: dict[str, Any] = {"installed": psycopg.waiting.wait is green_postgres.wait_on_the_hub}
    waits = [0]

    def counted(*args: Any, **kwargs: Any) -> Any:
        waits[0] += 1
        return green_postgres.wait_on_the_hub(*args, **kwargs)

    psycopg.waiting.wait = counted  # what psycopg calls, if it still calls it
    with engine.connect() as connection:
        report["answer"] = connection.execute(text("SELECT 40 + 2")).scalar_one()
    report["waits"] = waits[0]

    # Two half-second sleeps in two greenlets, and a ticker: the hub keeps running.
    ticks = [0]

    def tick() -> None:
        while True:
            ticks[0] += 1
            gevent.sleep(0.01)

    def sleep_in_database() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(0.5)"))

    ticker = gevent.spawn(tick)
    started = time.perf_counter()
    gevent.joinall([gevent.spawn(sleep_in_database) for _ in range(2)], raise_error=True)
    report["two_sleeps_s"] = time.perf_counter() - started
    report["ticks_meanwhile"] = ticks[0]
    ticker.kill()

    # A query bigger than the socket's buffer: psycopg waits to write while answers may come.
    both = [0]
    ready_now = green_postgres._ready_now

    def counted_ready_now(fileno: int) -> int:
        both[0] += 1
        return ready_now(fileno)

    green_postgres._ready_now = counted_ready_now  # type: ignore[assignment]
    with engine.connect() as connection:
        report["big_length"] = connection.execute(
            text("SELECT length(:big)"), {"big": "x" * BIG}
        ).scalar_one()
    report["big_waits_for_both"] = both[0]

    # A backend terminated mid-query: the wait ends in an error, not a hang.
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as victim:
        pid = victim.info.backend_pid

        def terminate() -> None:
            gevent.sleep(0.2)
            with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        killer = gevent.spawn(terminate)
        started = time.perf_counter()
        try:
            victim.execute("SELECT pg_sleep(10)")
            report["terminated"] = "no error"
        except psycopg.OperationalError as error:
            report["terminated"] = type(error).__name__
        report["terminated_after_s"] = time.perf_counter() - started
        killer.join()
    engine.dispose()
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
